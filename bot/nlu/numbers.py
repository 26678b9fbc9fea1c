"""Quantities as customers type them ("2", "1.5", "three and a half", "half a dozen", "500 g").

Reading stops at what it understands: "a few" is reported as vague rather than guessed, and a
quantity in a unit the product is not sold in is refused rather than converted by assumption.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import Product

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_FRACTION_WORDS = {"half": 0.5, "quarter": 0.25}
_PAIRS = {"couple": 2, "pair": 2}
NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS) | frozenset(_SCALES) | frozenset(_FRACTION_WORDS) | frozenset(_PAIRS)
_COUNT_WORDS = frozenset(_ONES) | frozenset(_TENS)
VAGUE_WORDS = frozenset({"few", "several", "many", "lots", "lot", "plenty", "loads", "bunches"})

UNIT_WORDS = {
    "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
    "kilogramme": "kg", "kilogrammes": "kg",
    "g": "g", "gr": "g", "grs": "g", "gram": "g", "grams": "g", "gramme": "g", "grammes": "g",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz", "ounce": "oz", "ounces": "oz",
    "l": "l", "lt": "l", "ltr": "l", "ltrs": "l", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "milliliter": "ml", "milliliters": "ml",
    "cl": "cl",
    "each": "each", "piece": "each", "pieces": "each", "pc": "each", "pcs": "each", "item": "each", "items": "each",
    "pack": "pack", "packs": "pack", "packet": "pack", "packets": "pack", "package": "pack", "packages": "pack",
    "dozen": "dozen", "dozens": "dozen",
    "bunch": "bunch", "bunches": "bunch", "loaf": "loaf", "loaves": "loaf", "bag": "bag", "bags": "bag",
    "bottle": "bottle", "bottles": "bottle", "jar": "jar", "jars": "jar", "can": "can", "cans": "can",
    "tin": "can", "tins": "can", "box": "box", "boxes": "box",
    # containers no catalog unit matches: named so "a carton of eggs" is refused, not read as 1 egg
    "carton": "carton", "cartons": "carton", "tub": "tub", "tubs": "tub", "punnet": "punnet",
    "punnets": "punnet", "tray": "tray", "trays": "tray", "crate": "crate", "crates": "crate",
}
# unit -> (dimension, size in the dimension's base); units outside this table only meet themselves
_MEASURES = {
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "lb": ("mass", 0.45359237), "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0), "ml": ("volume", 0.001), "cl": ("volume", 0.01),
    "each": ("count", 1.0), "dozen": ("count", 12.0),
}


@dataclass(frozen=True, slots=True)
class Amount:
    """How much was asked for: `value` None means vague ("a few"); `unit` None means unsaid."""

    value: float | None
    unit: str | None = None
    explicit: bool = True  # False for a bare "a"/"an", which only says "one of"


def _digits(word: str) -> float | None:
    if word.endswith("%"):
        return None
    try:
        if "/" in word:
            top, bottom = word.split("/")
            return int(top) / int(bottom) if int(bottom) else None
        if "," in word:
            whole, _, rest = word.partition(",")
            if len(rest) == 3 and rest.isdigit():  # 1,000
                return float(word.replace(",", ""))
            return float(word.replace(",", "."))  # 1,5 (decimal comma)
        return float(word)
    except ValueError:
        return None


def _at(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _read_words(words: list[str], i: int) -> tuple[float | None, int]:
    """Spelled numbers: "three", "twenty one", "a hundred", "two thousand"."""
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(words):
        w = words[j]
        if w in _ONES:
            current += _ONES[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES and (seen or j == i):
            scale = _SCALES[w]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
        elif w == "-" and seen and _at(words, j + 1) in _ONES:
            j += 1
            continue
        elif w == "and" and seen and _at(words, j + 1) in _COUNT_WORDS and current >= 100:
            j += 1
            continue
        else:
            break
        seen, j = True, j + 1
    return (total + current, j) if seen else (None, i)


def _read_fraction_tail(words: list[str], j: int) -> tuple[float, int]:
    """"... and a half", "... and a quarter", "... 1/2" after a whole number."""
    if _at(words, j) == "and":
        k = j + 1 + (_at(words, j + 1) in ("a", "an"))
        if _at(words, k) in _FRACTION_WORDS:
            return _FRACTION_WORDS[_at(words, k)], k + 1
    nxt = _at(words, j)
    if "/" in nxt and (frac := _digits(nxt)) is not None and frac < 1:
        return frac, j + 1
    return 0.0, j


def read_number(words: list[str], i: int) -> tuple[float | None, int, bool]:
    """A number starting at words[i]: (value, index after it, explicit). (None, i, _) if none."""
    w = _at(words, i)
    if w and (w[0].isdigit() or (w[0] == "-" and w[1:2].isdigit())):
        value = _digits(w)
        if value is None:
            return None, i, False
        tail, j = _read_fraction_tail(words, i + 1) if value >= 1 or value == 0 else (0.0, i + 1)
        return value + tail, j, True
    if w == "another":
        return 1.0, i + 1, False
    if w in UNIT_WORDS and _at(words, i + 1) == "of" and len(w) > 1:  # "bag of rice", "kilo of apples"
        return 1.0, i, False
    if w in ("a", "an"):
        nxt = _at(words, i + 1)
        if nxt in _FRACTION_WORDS or nxt in _PAIRS or nxt in _SCALES:
            value, j, _ = read_number(words, i + 1)
            return value, j, True
        return 1.0, i + 1, False
    if w in _FRACTION_WORDS:  # "half a kilo", "half a dozen", "half kg"
        j = i + 1 + (_at(words, i + 1) in ("a", "an") and _at(words, i + 2) in UNIT_WORDS)
        return _FRACTION_WORDS[w], j, True
    if w in _PAIRS:
        return float(_PAIRS[w]), i + 1 + (_at(words, i + 1) == "of"), True
    if w in ("dozen", "dozens"):  # "dozen eggs": the unit reader takes the word itself
        return 1.0, i, True
    value, j = _read_words(words, i)
    if value is None:
        return None, i, False
    tail, j = _read_fraction_tail(words, j)
    return value + tail, j, True


def read_amount(words: list[str], i: int) -> tuple[Amount | None, int]:
    """A quantity with its unit at words[i] ("2 kg of", "a dozen", "a few"); (None, i) if none."""
    k = i + (_at(words, i) in ("a", "an"))
    if _at(words, k) in VAGUE_WORDS:
        j = k + 1
        unit = UNIT_WORDS.get(_at(words, j))
        j += unit is not None
        return Amount(None, unit), j + (_at(words, j) == "of")
    value, j, explicit = read_number(words, i)
    if value is None:
        return None, i
    j += _at(words, j) in ("x", "*")  # "2 x milk"
    unit = UNIT_WORDS.get(_at(words, j))
    if unit is not None:
        j += 1
        tail, j = _read_fraction_tail(words, j)  # "a kilo and a half"
        value += tail
        explicit = True
    elif not explicit and _at(words, j) in ("of", ""):
        return None, i  # a lonely "a"
    return Amount(value, unit, explicit), j + (_at(words, j) == "of")


def to_product_unit(value: float, unit: str | None, product_unit: str) -> float | None:
    """`value` `unit` expressed in the product's unit, or None when they do not convert."""
    if unit is None or unit == product_unit:
        return value
    src, dst = _MEASURES.get(unit), _MEASURES.get(product_unit)
    if src and dst and src[0] == dst[0]:
        return value * src[1] / dst[1]
    if unit == "each" and product_unit not in _MEASURES:  # "2 pieces of bread" (loaf)
        return value
    return None


def quantity_problem(quantity: float, weighed: bool, max_quantity: float) -> str | None:
    """Why a quantity cannot go in a cart ("zero", "negative", "too_large", "unit"), or None."""
    if quantity < 0:
        return "negative"
    if quantity == 0:
        return "zero"
    if quantity > max_quantity:
        return "too_large"
    if not weighed and abs(quantity - round(quantity)) > 1e-9:
        return "unit"
    if weighed and round(quantity, 3) == 0:
        return "zero"
    return None


def tidy(quantity: float) -> float | int:
    """Whole quantities as ints (3, not 3.0000001), others to the gram/millilitre."""
    q = round(quantity, 3)
    return int(q) if q.is_integer() else q


def product_quantity(amount: Amount | None, product: Product, action: str,
                     max_quantity: float) -> tuple[float | None, str | None]:
    """The amount in the product's unit, and why it is refused ("zero", "unit", ...) or None.

    No amount means one of the product's unit, or for a removal the whole line (0).
    """
    if amount is None:
        return (0, None) if action == "remove" else (1, None)
    if amount.value is None:
        return None, "unit"  # "a few": we do not guess
    value, unit = amount.value, amount.unit
    if product.unit == "dozen" and unit is None:  # "12 eggs" sold by the dozen
        if value % 12:
            return tidy(value), "unit"
        value, unit = value / 12, "dozen"
    quantity = to_product_unit(value, unit, product.unit)
    if quantity is None:
        return tidy(value), "unit"
    if action == "set" and quantity == 0:
        return 0, None
    return tidy(quantity), quantity_problem(quantity, product.weighed, max_quantity)
