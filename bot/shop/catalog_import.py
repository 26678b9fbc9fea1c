"""Read a shop's catalog file (CSV or JSON) into validated `Product`s, all or nothing.

A catalog import replaces what customers can buy, so one bad row must stop the whole import:
every problem in the file is collected and reported together, and nothing is returned.

Line numbers in errors are physical lines of the file, 1-based: in CSV the line where the row
starts (the header is line 1; a quoted field spanning lines counts them all); in JSON the line
where the product's opening "{" stands.
"""
from __future__ import annotations

import csv
import io
import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from bot.shop.catalog import UNITS, WEIGHED_UNITS, Product, number

SKU_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
MAX_PRICE_CENTS = 100_000_000  # $1,000,000 a unit: anything above is a typo, not a price
REQUIRED_COLUMNS = ("sku", "name", "unit", "stock")
PRICE_COLUMNS = ("price_cents", "price")
ALIAS_SPLIT_RE = re.compile(r"[|;]")
PRICE_MISSING = "price is missing: give price_cents (249) or price (2.49)"
WS_RE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row; `sku` is None when the row has no usable sku."""

    line: int
    sku: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line} ({self.sku})" if self.sku else f"line {self.line}"
        return f"{where}: {self.reason}"


class CatalogImportError(ValueError):
    """The file was refused; `errors` lists every problem found, in file order."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.line)
        lines = "\n".join(str(e) for e in self.errors)
        super().__init__(f"catalog refused, {len(self.errors)} error(s):\n{lines}")


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would take true as 1
        raise ValueError("must be a whole number, not true or false")
    return value


def _sku(value: str) -> str:
    sku = value.strip().upper()
    if not SKU_RE.match(sku):
        raise ValueError(f"sku {value!r} must be 1-40 letters, digits or dashes, not starting with a dash")
    return sku


def _unit(value: str) -> str:
    if value.lower() not in UNITS:  # "KG" is clearly kg; "lbs" is not ours to guess
        raise ValueError(f"unit {value!r} is not one of: {', '.join(UNITS)}")
    return value.lower()


def _decimal(value: Any) -> Decimal | None:
    """An exact Decimal of a CSV string or a JSON number (floats go through str: 2.49 stays 2.49),
    or None when it is not a finite number (true/false are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_price(value: Any) -> Decimal:
    """A price in major units ("2.49") as an exact Decimal."""
    shown = f"'{value}'"  # as the shop wrote it, whether a CSV string or a JSON number
    price = _decimal(value)
    if price is None:
        raise ValueError(f"price {shown} must be a number like 2.49")
    if price <= 0 or price * 100 > MAX_PRICE_CENTS:
        raise ValueError(f"price {shown} must be more than 0 and at most {MAX_PRICE_CENTS // 100}")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError(f"price {shown} has more than 2 decimals")
    return price


def normalise_aliases(value: Any) -> tuple[str, ...]:
    """Aliases from a list or an "a|b" / "a;b" string, lowercased, blanks and repeats dropped."""
    if value is None:  # JSON null, as a database export writes "no aliases"
        return ()
    if isinstance(value, str):
        value = ALIAS_SPLIT_RE.split(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(a, str) for a in value):
        raise ValueError("aliases must be a list of strings or a '|'-separated string")
    aliases = tuple(dict.fromkeys(a for a in (" ".join(a.split()).lower() for a in value) if a))
    if any(len(a) > 80 for a in aliases):
        raise ValueError("aliases: one is longer than 80 characters")
    return aliases


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


def _amount(value: Any) -> Decimal:
    """A stock or quantity: a number with at most 3 decimals (12.5 kg of apples, 0.25 kg)."""
    if isinstance(value, bool):  # Decimal would take true as 1
        raise ValueError("must be a number, not true or false")
    shown = f"'{value}'"
    amount = _decimal(value)
    if amount is None:
        raise ValueError(f"{shown} must be a number like 12 or 12.5")
    if amount != amount.quantize(Decimal("0.001")):
        raise ValueError(f"{shown} has more than 3 decimals")
    return amount


Amount = Annotated[Decimal, BeforeValidator(_amount)]


class ProductRow(BaseModel):
    """One product as written in a file; normalises what is safe to normalise, refuses the rest."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Annotated[str, AfterValidator(_sku)]
    name: str = Field(min_length=1, max_length=120)
    unit: Annotated[str, AfterValidator(_unit)]
    price_cents: WholeNumber | None = Field(default=None, gt=0, le=MAX_PRICE_CENTS)
    price: Annotated[Decimal | None, BeforeValidator(lambda v: None if v is None else parse_price(v))] = None
    stock: Amount = Field(ge=0, le=1_000_000_000)
    aliases: Annotated[tuple[str, ...], BeforeValidator(normalise_aliases)] = ()
    category: str = Field(default="", max_length=60)
    description: str = Field(default="", max_length=1000)
    each_grams: Amount | None = Field(default=None, gt=0, le=100_000)
    min_quantity: Amount | None = Field(default=None, gt=0, le=1_000_000)

    @model_validator(mode="after")
    def _amounts_fit_the_unit(self) -> ProductRow:
        """Counted units are whole (no 2.5 cans in stock); a piece weight only means something by weight."""
        counted = self.unit not in WEIGHED_UNITS
        if counted and self.stock != self.stock.to_integral_value():
            raise ValueError(f"stock {self.stock} must be a whole number of {self.unit} (only kg and l take fractions)")
        if counted and self.min_quantity is not None and self.min_quantity != self.min_quantity.to_integral_value():
            raise ValueError(f"min_quantity {self.min_quantity} must be a whole number of {self.unit}")
        if self.each_grams is not None and self.unit != "kg":
            raise ValueError(f"each_grams is for products sold by the kg, not by the {self.unit}")
        return self

    @model_validator(mode="after")
    def _one_price(self) -> ProductRow:
        from_price = None if self.price is None else int(self.price * 100)
        if self.price_cents is None and from_price is None:
            raise ValueError(PRICE_MISSING)
        if None not in (self.price_cents, from_price) and self.price_cents != from_price:
            raise ValueError(f"price {self.price} and price_cents {self.price_cents} disagree")
        if self.price_cents is None:
            self.price_cents = from_price
        return self

    def to_product(self) -> Product:
        assert self.price_cents is not None, "_one_price sets it from price"
        return Product(sku=self.sku, name=self.name, unit=self.unit, price_cents=self.price_cents,
                       stock=number(self.stock), aliases=self.aliases, category=self.category,
                       description=self.description,
                       each_grams=None if self.each_grams is None else number(self.each_grams),
                       min_quantity=None if self.min_quantity is None else number(self.min_quantity))


def _reasons(exc: ValidationError) -> list[str]:
    """Pydantic's errors as short sentences a shop owner can act on."""
    reasons = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        if err["type"] == "missing":
            reasons.append(f"{field} is missing")
        elif err["type"] == "extra_forbidden":
            reasons.append(f"unknown field {field!r}")
        elif err["type"] == "value_error":
            msg = str(err["ctx"]["error"])
            reasons.append(msg if not field or msg.startswith(field) else f"{field} {msg}")
        else:
            reasons.append(f"{field}: {err['msg'][0].lower()}{err['msg'][1:]}")
    return reasons


def _raw_sku(raw: dict) -> str | None:
    sku = raw.get("sku")
    if not isinstance(sku, str):
        return None
    return sku.strip().upper() or None


def _missing_price(raw: dict) -> list[str]:
    """Pydantic skips the model check when a field fails; the missing price must still be said."""
    return [PRICE_MISSING] if raw.get("price") is None and raw.get("price_cents") is None else []


Rows = list[tuple[int, dict]]  # (line, raw fields) for each row that is at least well formed


def validate_rows(rows: Rows, errors: list[RowError] | None = None) -> list[Product]:
    """Validate every row; raise with all errors (the parser's and ours), or return every product."""
    errors = list(errors or [])
    products: list[Product] = []
    first_line: dict[str, int] = {}
    for line, raw in rows:
        try:
            row = ProductRow.model_validate(raw)
        except ValidationError as exc:
            reasons = dict.fromkeys(_reasons(exc) + _missing_price(raw))
            errors += [RowError(line, _raw_sku(raw), r) for r in reasons]
            continue
        if row.sku in first_line:
            errors.append(RowError(line, row.sku, f"duplicate sku, also on line {first_line[row.sku]}"))
            continue
        first_line[row.sku] = line
        products.append(row.to_product())
    if not rows and not errors:
        errors.append(RowError(1, None, "the catalog has no products"))
    if errors:
        raise CatalogImportError(errors)
    return products


def _csv_rows(text: str) -> tuple[Rows, list[RowError]]:
    """CSV rows keyed by header, with the physical line each row starts on; empty cells are absent."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, errors = [], []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        _check_header(header)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            raw = {k: v for k, v in zip(header, cells, strict=False) if v.strip()}  # a short row: checked below
            if len(cells) != len(header):
                reason = f"row has {len(cells)} fields, the header has {len(header)}"
                errors.append(RowError(line, _raw_sku(raw), reason))
            else:
                rows.append((line, raw))
    except csv.Error as exc:
        raise CatalogImportError(errors + [RowError(reader.line_num, None, f"invalid CSV: {exc}")]) from None
    return rows, errors


def _check_header(header: list[str]) -> None:
    """A missing or misspelt column would fail every row the same way: say it once, on line 1."""
    known = set(REQUIRED_COLUMNS + PRICE_COLUMNS) | {"aliases", "category", "description", "each_grams",
                                                     "min_quantity"}
    reasons = [f"missing column {c!r}" for c in REQUIRED_COLUMNS if c not in header]
    if not any(c in header for c in PRICE_COLUMNS):
        reasons.append("missing column 'price_cents' or 'price'")
    reasons += [f"unknown column {c!r}" for c in header if c not in known]
    reasons += [f"column {c!r} appears twice" for c in sorted(set(header)) if header.count(c) > 1]
    if reasons:
        raise CatalogImportError([RowError(1, None, r) for r in reasons])


def _json_rows(text: str) -> tuple[Rows, list[RowError]]:
    """Objects of a top-level JSON list, each with the line of its "{", decoded one at a time."""
    decoder, rows, errors = json.JSONDecoder(parse_float=Decimal), [], []
    newlines = [m.start() for m in re.finditer("\n", text)]  # bisected, so big files stay linear
    line_at = lambda pos: bisect_left(newlines, pos) + 1  # noqa: E731
    pos = _skip_ws(text, 0)
    if text[pos:pos + 1] != "[":
        raise CatalogImportError([RowError(line_at(pos), None, "expected a JSON list of products")])
    pos = _skip_ws(text, pos + 1)
    try:
        while text[pos:pos + 1] != "]":
            obj, end = decoder.raw_decode(text, pos)
            if isinstance(obj, dict):
                rows.append((line_at(pos), obj))
            else:
                errors.append(RowError(line_at(pos), None, "each product must be a JSON object"))
            pos = _skip_ws(text, end)
            if text[pos:pos + 1] not in (",", "]"):
                raise json.JSONDecodeError("expected ',' or ']'", text, pos)
            pos = _skip_ws(text, pos + 1) if text[pos] == "," else pos
        if (tail := _skip_ws(text, pos + 1)) != len(text):
            raise json.JSONDecodeError("text after the list", text, tail)
    except json.JSONDecodeError as exc:
        raise CatalogImportError([RowError(exc.lineno, None, f"invalid JSON: {exc.msg}")]) from None
    return rows, errors


def _skip_ws(text: str, pos: int) -> int:
    match = WS_RE.match(text, pos)
    return match.end() if match else pos  # `*`: it always matches, possibly empty


def parse_catalog(text: str, fmt: Literal["csv", "json"]) -> list[Product]:
    """Products from catalog text; raises CatalogImportError listing every bad row."""
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown catalog format {fmt!r}: use 'csv' or 'json'")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CatalogImportError([RowError(1, None, "the catalog file is empty")])
    return validate_rows(*(_csv_rows(text) if fmt == "csv" else _json_rows(text)))


def sniff_format(path: Path, text: str) -> Literal["csv", "json"]:
    """By extension; otherwise JSON if the text opens with '[' or '{', else CSV."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def read_catalog(path: str | Path) -> list[Product]:
    """Products from a CSV or JSON file (UTF-8, BOM allowed); all or nothing."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CatalogImportError([RowError(line, None, "the file is not UTF-8 text")]) from None
    return parse_catalog(text, sniff_format(path, text))


def sample_catalog_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "catalog.json"


def load_sample_catalog() -> list[Product]:
    """The bundled demo catalog, through the same validation a shop's file gets."""
    return read_catalog(sample_catalog_path())
