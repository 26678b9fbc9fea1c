"""The shop's rules in words, from the same ShopRules that checkout applies.

Two readers: the customer who asks ("how much is delivery?", answered offline when the language
model gave no answer) and the FAQ (bot/shop/faq.py puts these entries in place of the file's, so
a model's answer cites exactly what checkout does). Sentences are prompts.py's.
"""
from __future__ import annotations

import re
from datetime import datetime

from statemachine import prompts
from statemachine.money import format_money
from statemachine.rules import DAY_NAMES, Area, ShopRules, Week, clock

TOPICS = ("delivery_fee", "minimum_order", "delivery_areas", "opening_hours", "delivery_hours", "payment")
QUESTIONS = {
    "delivery_fee": "How much is delivery?",
    "minimum_order": "Is there a minimum order?",
    "delivery_areas": "Where do you deliver?",
    "opening_hours": "When are orders handled?",
    "delivery_hours": "When do you deliver?",
    "payment": "How can I pay?",
}
# Words a customer's question about each topic tends to use (the FAQ's keyword retrieval reads them).
KEYWORDS = {
    "delivery_fee": ["fee", "charge", "cost", "price", "shipping", "free delivery"],
    "minimum_order": ["minimum", "smallest", "least", "spend"],
    "delivery_areas": ["area", "areas", "zip", "postcode", "distance", "far", "radius", "location", "neighborhood"],
    "opening_hours": ["open", "close", "closing", "hours", "store", "holiday", "holidays", "time", "times", "late",
                      "early"],
    "delivery_hours": ["time", "day", "days", "sunday", "saturday", "weekend", "same day", "tomorrow", "arrive",
                       "slot"],
    "payment": ["pay", "payment", "card", "cash", "credit", "debit", "visa", "mastercard", "amex", "online",
                "accept", "take", "apple pay", "google pay", "cheque", "check"],
}
# Words that point a question at a topic (checked in this order: the first topic that matches).
CUES = (
    ("minimum_order", r"\bminimum\b|\bat least\b|\bsmallest order\b"),
    ("delivery_fee", r"\b(fee|fees|charge|cost|costs|price)\b.*\bdeliver"
                     r"|\bdeliver\w*\b.*\b(fee|fees|cost|costs|charge)\b"
                     r"|\bhow much\b.*\bdeliver|\bfree delivery\b|\bshipping\b"),
    ("payment", r"\bpay\b|\bpaying\b|\bpayment\b|\bcash\b|\bcard\b|\bstripe\b"),
    ("delivery_areas", r"\bwhere\b.*\bdeliver|\bdeliver\w*\b.*\b(to|area|areas|zip|postcode|postal)\b"
                       r"|\bzip\b|\bpostcode\b|\barea\b"),
    ("delivery_hours", r"\bwhen\b.*\bdeliver|\bdelivery (slot|slots|time|times|window|hours)\b|\bslot\b|\bslots\b"),
    ("opening_hours", r"\bopen\b|\bopening\b|\bhours\b|\bclose\b|\bclosed\b"),
)


def topic_of(text: str) -> str | None:
    low = text.lower()
    return next((topic for topic, cue in CUES if re.search(cue, low)), None)


def answer(rules: ShopRules, topic: str, currency: str) -> str | None:
    """The rules' own answer, or None where the rules say nothing (no opening hours or slots set:
    the shop's FAQ text, if any, speaks for itself)."""
    return ANSWERS[topic](rules, currency)


def governed(rules: ShopRules) -> tuple[str, ...]:
    """The topics these rules decide: fees, minimum, areas and payment always; hours and delivery
    times only when the shop set them."""
    return tuple(t for t in TOPICS if answer(rules, t, "USD") is not None)


def faq_entries(rules: ShopRules, currency: str) -> list[dict]:
    """The FAQ's entries about the rules, in bot/shop/faq.py's shape."""
    return [{"topic": t, "question": QUESTIONS[t], "answer": answer(rules, t, currency), "keywords": KEYWORDS[t]}
            for t in governed(rules)]


def _fee(rules: ShopRules, currency: str) -> str:
    if not rules.has_fee:
        return prompts.RULE_FREE_DELIVERY
    free_over = rules.free_delivery_over_cents
    parts = [prompts.rule_fee(format_money(rules.delivery_fee_cents, currency),
                              format_money(free_over, currency) if free_over is not None else "")]
    parts += [prompts.rule_area_fee(a.name, format_money(a.fee_cents, currency)) for a in rules.areas
              if a.fee_cents is not None and a.fee_cents != rules.delivery_fee_cents]
    return " ".join(parts)


def _minimum(rules: ShopRules, currency: str) -> str:
    if not rules.minimum_order_cents:
        return prompts.RULE_NO_MINIMUM
    return prompts.rule_minimum(format_money(rules.minimum_order_cents, currency))


def _areas(rules: ShopRules, currency: str) -> str:
    return prompts.rule_areas(areas_text(rules.areas)) if rules.areas else prompts.RULE_ANYWHERE


def _hours(rules: ShopRules, currency: str) -> str | None:
    if rules.hours.always:
        return None
    return prompts.rule_hours(schedule_text(rules.hours), rules.timezone)


def _delivery_hours(rules: ShopRules, currency: str) -> str | None:
    slots = rules.slots
    if slots is None:
        return None
    return prompts.rule_slots(_length(slots.length_minutes), schedule_text(slots.hours or rules.hours),
                              slots.days_ahead, _span(slots.cutoff_minutes))


def _payment(rules: ShopRules, currency: str) -> str:
    labels = [prompts.PAYMENT_LABELS[m].lower() for m in rules.payment_methods]
    return prompts.rule_payment(labels[0] if len(labels) == 1 else ", or ".join(labels))


ANSWERS = {"delivery_fee": _fee, "minimum_order": _minimum, "delivery_areas": _areas, "opening_hours": _hours,
           "delivery_hours": _delivery_hours, "payment": _payment}


def areas_text(areas: tuple[Area, ...]) -> str:
    """'Springfield (62701, 62702), Chatham (62629)'."""
    return ", ".join(f"{a.name} ({', '.join(a.postcodes)})" if a.postcodes else a.name for a in areas)


def schedule_text(week: Week) -> str:
    """'every day 9 AM–8 PM' or 'Monday to Saturday 8 AM–9 PM, Sunday 9 AM–6 PM' (closed days left out)."""
    groups: list[list] = []  # [first day, last day, windows]
    for i, windows in enumerate(week.days):
        if groups and groups[-1][2] == windows and groups[-1][1] == i - 1:
            groups[-1][1] = i
        else:
            groups.append([i, i, windows])
    parts = []
    for first, last, windows in groups:
        if not windows:
            continue
        days = "every day" if (first, last) == (0, 6) else DAY_NAMES[first] if first == last else \
            f"{DAY_NAMES[first]} to {DAY_NAMES[last]}"
        parts.append(f"{days} {' and '.join(_window(w) for w in windows)}")
    return ", ".join(parts) or "never"


def _window(window: tuple[int, int]) -> str:
    start, end = window
    if (start, end) == (0, 1440):
        return "all day"
    return f"{_minute(start)}–{_minute(end)}"


def _minute(minute: int) -> str:
    if minute >= 1440:
        return "midnight"
    return clock(datetime(2000, 1, 1, minute // 60, minute % 60))


def _length(minutes: int) -> str:
    """'2-hour', '90-minute': a slot's length as an adjective."""
    return f"{minutes // 60}-hour" if minutes % 60 == 0 else f"{minutes}-minute"


def _span(minutes: int) -> str:
    """'1 hour', '2 hours', '45 minutes'."""
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
