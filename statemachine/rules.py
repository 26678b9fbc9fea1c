"""The shop's rules as the conversation applies them: fees, minimum, areas, hours, slots, payment.

Plain data and pure functions (standard library only). bot/shop/ reads and validates the shop's
file into a `ShopRules`; `ShopRules()` is a shop with no rules at all: free delivery anywhere,
no minimum, always open, no delivery slots, payment on delivery.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
METHODS = ("on_delivery", "online")  # how a customer may pay
ON_DELIVERY, ONLINE = METHODS


@dataclass(frozen=True)
class Week:
    """Open windows per weekday (Monday first), each (start, end) in minutes after midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...] = ((((0, 1440),),) * 7)

    @property
    def always(self) -> bool:
        return all(windows == ((0, 1440),) for windows in self.days)

    def windows_on(self, day: date) -> tuple[tuple[int, int], ...]:
        return self.days[day.weekday()]


ALWAYS = Week()


@dataclass(frozen=True)
class Area:
    """A delivery area: postcodes and/or place names that an address must mention."""

    name: str
    postcodes: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    fee_cents: int | None = None  # this area's own delivery fee (None: the shop's)


@dataclass(frozen=True)
class SlotRules:
    length_minutes: int = 120
    capacity: int = 10  # deliveries per slot
    days_ahead: int = 3  # today and the next days
    cutoff_minutes: int = 60  # a slot closes this long before it starts
    offer: int = 3  # how many of the next available slots the customer is offered at once
    hours: Week | None = None  # delivery windows (None: the opening hours)


@dataclass(frozen=True)
class ShopRules:
    timezone: str = "UTC"
    delivery_fee_cents: int = 0
    free_delivery_over_cents: int | None = None  # orders of at least this much deliver free
    minimum_order_cents: int = 0
    areas: tuple[Area, ...] = ()  # empty: deliver anywhere
    hours: Week = ALWAYS  # opening hours: when orders are handled
    outside_hours: str = "accept"  # accept: take the order and say when it is handled; refuse
    slots: SlotRules | None = None
    payment_methods: tuple[str, ...] = (ON_DELIVERY,)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_fee(self) -> bool:
        return bool(self.delivery_fee_cents or any(a.fee_cents for a in self.areas))


@dataclass(frozen=True)
class Slot:
    id: str  # local start, "2026-12-02T16:00": unique for the shop
    start: float  # epoch seconds
    end: float
    label: str  # "Today 4 PM–6 PM", as the customer reads it

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "start": self.start, "end": self.end, "label": self.label}


@dataclass
class Charges:
    """What an order costs: items from the catalog, delivery from the rules, all in cents."""

    items_cents: int
    fee_cents: int
    waived: bool = False  # the fee was waived (over the free-delivery amount)
    missing_cents: int = 0  # below the minimum by this much

    @property
    def total_cents(self) -> int:
        return self.items_cents + self.fee_cents


# -- money -----------------------------------------------------------------------------------

def charges(rules: ShopRules, items_cents: int, area: Area | None = None) -> Charges:
    base = area.fee_cents if area is not None and area.fee_cents is not None else rules.delivery_fee_cents
    free_over = rules.free_delivery_over_cents
    waived = bool(base) and free_over is not None and items_cents >= free_over
    return Charges(items_cents, 0 if waived else base, waived,
                   max(0, rules.minimum_order_cents - items_cents))


def fee_for(items_cents: int, fee_cents: int, free_over_cents: int | None) -> int:
    """The delivery fee the store charges: the same rule as `charges`, from the order's own numbers."""
    return 0 if free_over_cents is not None and items_cents >= free_over_cents else fee_cents


# -- areas -----------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return " " + re.sub(r"[^0-9A-Z]+", " ", text.upper()).strip() + " "


def area_of(rules: ShopRules, address: str | None) -> Area | None:
    """The delivery area an address is in (a postcode or place name it mentions), else None.
    A shop without areas delivers anywhere: every address is in an unnamed area."""
    if not rules.areas:
        return Area(name="")
    text = _norm(address or "")
    squeezed = text.replace(" ", "")
    for area in rules.areas:
        if any(_norm(p) in text or (" " in p and _norm(p).replace(" ", "") in squeezed) for p in area.postcodes):
            return area
        if any(_norm(p) in text for p in area.places):
            return area
    return None


# -- time ------------------------------------------------------------------------------------

def local(rules: ShopRules, now: float) -> datetime:
    return datetime.fromtimestamp(now, rules.zone)


def is_open(week: Week, moment: datetime) -> bool:
    minute = moment.hour * 60 + moment.minute
    return any(start <= minute < end for start, end in week.windows_on(moment.date()))


def next_opening(week: Week, moment: datetime) -> datetime | None:
    """When the shop next opens after `moment` (None if never)."""
    minute = moment.hour * 60 + moment.minute
    for offset in range(8):
        day = moment.date() + timedelta(days=offset)
        for start, _ in week.windows_on(day):
            if offset or start > minute:
                return _at(day, start, moment.tzinfo)
    return None


def _at(day: date, minute: int, zone: tzinfo | None) -> datetime:
    if minute >= 1440:
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, time(minute // 60, minute % 60), zone)


def when(moment: datetime, now: datetime) -> str:
    """'today at 8 AM', 'tomorrow at 9:30 AM', 'Monday at 8 AM'."""
    days = (moment.date() - now.date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else DAY_NAMES[moment.weekday()]
    return f"{day} at {clock(moment)}"


def clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


# -- delivery slots ----------------------------------------------------------------------------

def upcoming_slots(rules: ShopRules, now: float) -> list[Slot]:
    """Every slot still open for booking (past its cut-off: gone), soonest first."""
    slots_rules = rules.slots
    if slots_rules is None:
        return []
    zone, week = rules.zone, slots_rules.hours or rules.hours
    today = local(rules, now)
    closes = now + slots_rules.cutoff_minutes * 60
    found = []
    for offset in range(slots_rules.days_ahead):
        day = today.date() + timedelta(days=offset)
        for start, end in week.windows_on(day):
            minute = start
            while minute + slots_rules.length_minutes <= end:
                begins, ends = _at(day, minute, zone), _at(day, minute + slots_rules.length_minutes, zone)
                if begins.timestamp() > closes:
                    found.append(Slot(begins.strftime("%Y-%m-%dT%H:%M"), begins.timestamp(), ends.timestamp(),
                                      slot_label(begins, ends, today)))
                minute += slots_rules.length_minutes
    return found


def slot_label(begins: datetime, ends: datetime, now: datetime) -> str:
    days = (begins.date() - now.date()).days
    day = "Today" if days == 0 else "Tomorrow" if days == 1 else begins.strftime("%a %b ") + str(begins.day)
    return f"{day} {clock(begins)}–{clock(ends)}"


def slot_when(slot: dict[str, Any], rules: ShopRules) -> str:
    """'Tue Jan 12, 1 PM–3 PM': a slot as operators read it, whatever day it is now."""
    begins, ends = local(rules, slot["start"]), local(rules, slot["end"])
    return begins.strftime("%a %b ") + f"{begins.day}, {clock(begins)}–{clock(ends)}"


# -- payment ---------------------------------------------------------------------------------

def methods_for(rules: ShopRules, channel: str) -> tuple[str, ...]:
    """The methods this channel can offer: a link is no use on a phone call."""
    methods = tuple(m for m in rules.payment_methods if not (m == ONLINE and channel == "voice"))
    return methods or (ON_DELIVERY,)
