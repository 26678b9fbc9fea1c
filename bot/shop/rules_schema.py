"""The shop file's schema (pydantic): what bot/data/shop.yaml may say, checked field by field.

Amounts are written as the shop reads them (4.99, in CURRENCY) and become integer cents exactly
(no float arithmetic: the YAML number's text is read as a decimal). Hours are "08:00-21:00",
several windows with commas, "closed", or the whole schedule "always"; days are mon..sun, ranges
like mon-fri, or "daily".
"""
from __future__ import annotations

import itertools
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from statemachine.rules import ALWAYS, DAYS, METHODS, Area, ShopRules, SlotRules, Week

WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def _cents(value) -> int:
    if isinstance(value, bool):
        raise ValueError("must be an amount like 4.99")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"must be an amount like 4.99, got {value!r}") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"must be an amount of at least 0 with at most 2 decimals, got {value!r}")
    return int(amount * 100)


Money = Annotated[int, BeforeValidator(_cents)]


def _postcode(value) -> str:
    if not isinstance(value, str):  # YAML read 02134 as a number: its leading zero is gone
        raise ValueError(f"write postcodes in quotes, like \"02134\" (got {value!r})")
    if not value.strip():
        raise ValueError("a postcode is empty")
    return value.strip()


def _windows(text: str, where: str) -> tuple[tuple[int, int], ...]:
    text = str(text).strip().lower()
    if text == "closed":
        return ()
    found = []
    for part in text.split(","):
        m = WINDOW.match(part.strip())
        if not m:
            raise ValueError(f"{where}: {part.strip()!r} is not a time range like 08:00-21:00 (or 'closed')")
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= 1440 and m1 < 60 and m2 < 60):
            raise ValueError(f"{where}: {part.strip()!r} must start before it ends, within one day (up to 24:00)")
        found.append((start, end))
    found.sort()
    if any(a[1] > b[0] for a, b in itertools.pairwise(found)):
        raise ValueError(f"{where}: the time ranges overlap")
    return tuple(found)


def _days(key: str) -> list[int]:
    key = str(key).strip().lower()
    if key in ("daily", "every day", "everyday"):
        return list(range(7))
    first, _, last = key.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"{key!r} is not a day (mon..sun), a range like mon-fri, or 'daily'")
    a, b = DAYS.index(first), DAYS.index(last or first)
    return list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(0, b + 1))


def to_week(spec, where: str) -> Week:
    if isinstance(spec, str) and spec.strip().lower() == "always":
        return ALWAYS
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"{where} must be 'always' or days with their hours, like mon-sat: 08:00-21:00")
    days: list[tuple | None] = [None] * 7
    for key, value in spec.items():
        for day in _days(key):
            if days[day] is not None:
                raise ValueError(f"{where}: {DAYS[day]} is given twice")
            days[day] = _windows(value, f"{where}.{key}")
    return Week(tuple(d if d is not None else () for d in days))  # a day not listed is closed


def _checked_week(value, where: str):
    to_week(value, where)  # raises with the day and range that is wrong
    return value


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fee: Money = 0
    free_over: Money | None = None
    minimum_order: Money = 0


class AreaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    postcodes: list[Annotated[str, BeforeValidator(_postcode)]] = Field(default_factory=list, max_length=500)
    places: list[str] = Field(default_factory=list, max_length=50)
    fee: Money | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.postcodes and not self.places:
            raise ValueError(f"area {self.name!r} needs postcodes or places")
        return self


class Slots(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length_minutes: int = Field(default=120, ge=15, le=720)
    capacity: int = Field(default=10, ge=1, le=10_000)
    days_ahead: int = Field(default=3, ge=1, le=14)
    cutoff_minutes: int = Field(default=60, ge=0, le=2880)
    offer: int = Field(default=3, ge=1, le=6)
    hours: object | None = None  # delivery windows; default: the opening hours

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        return None if v is None else _checked_week(v, "slots.hours")


class Payment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    methods: list[Literal[METHODS]] = Field(default_factory=lambda: ["on_delivery"], min_length=1)  # type: ignore

    @field_validator("methods")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("a payment method is listed twice")
        return v


class ShopFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = "UTC"
    delivery: Delivery = Field(default_factory=Delivery)
    areas: list[AreaSpec] = Field(default_factory=list, max_length=200)
    hours: object = "always"
    outside_hours: Literal["accept", "refuse"] = "accept"
    slots: Slots | None = None
    payment: Payment = Field(default_factory=Payment)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v):
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone name like America/Chicago") from None
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        return _checked_week(v, "hours")

    @model_validator(mode="after")
    def _sane(self):
        names = [a.name.lower() for a in self.areas]
        if len(set(names)) != len(names):
            raise ValueError("two delivery areas have the same name")
        d = self.delivery
        if d.free_over is not None and d.fee == 0 and not any(a.fee for a in self.areas):
            raise ValueError("delivery.free_over is set but there is no delivery fee to waive")
        return self

    def rules(self, overrides: dict | None = None) -> ShopRules:
        """The validated file as the conversation's ShopRules; `overrides` (from settings) win."""
        o = overrides or {}
        slots = None
        if self.slots is not None:
            s = self.slots
            slots = SlotRules(s.length_minutes, s.capacity, s.days_ahead, s.cutoff_minutes, s.offer,
                              to_week(s.hours, "slots.hours") if s.hours is not None else None)
        return ShopRules(
            timezone=o.get("timezone") or self.timezone,
            delivery_fee_cents=_pick(o, "fee", self.delivery.fee),
            free_delivery_over_cents=_pick(o, "free_over", self.delivery.free_over),
            minimum_order_cents=_pick(o, "minimum", self.delivery.minimum_order),
            areas=tuple(Area(a.name, tuple(a.postcodes), tuple(a.places), a.fee) for a in self.areas),
            hours=to_week(self.hours, "hours"),
            outside_hours=self.outside_hours,
            slots=slots,
            payment_methods=tuple(self.payment.methods),
        )


def _pick(overrides: dict, name: str, value):
    return overrides[name] if overrides.get(name) is not None else value
