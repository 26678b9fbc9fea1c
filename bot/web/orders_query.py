"""Finding orders the way an operator does: by the number the customer knows, by phone (or its last
digits), by status, day and delivery slot."""
from __future__ import annotations

import re
from typing import TypedDict

from flask import abort, request

from bot.store import CANCELLABLE, FLOW
from bot.web.current import runtime

NUMBER = re.compile(r"^#?(\d{1,12})$")
DIGITS = re.compile(r"^\d{4,15}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SLOT_ID = re.compile(r"^[A-Za-z0-9:._-]{1,80}$")


class OrderFilters(TypedDict, total=False):
    """Keywords of Orders.search that an operator's query string sets."""

    number: int
    phone: str
    phone_suffix: str
    slot: str


def next_statuses(status: str) -> list[str]:
    later = list(FLOW[FLOW.index(status) + 1:]) if status in FLOW else []
    return later + (["cancelled"] if status in CANCELLABLE else [])


def find_order(ref: str) -> dict:
    """An order by its id, or by its number ('1002' or '#1002'); 404 if there is none."""
    store = runtime().store
    m = NUMBER.match(ref)
    order = store.orders.by_number(int(m.group(1))) if m else store.orders.get(ref)
    if order is None:
        abort(404, description="no such order")
    return order


def _phone(raw: str) -> OrderFilters:
    raw = raw.strip()
    if raw[:1].isdigit() and len(raw) > 10 and E164.match("+" + raw):
        raw = "+" + raw  # an unencoded '+' in a query string arrives as a space, stripped above
    if E164.match(raw):
        return {"phone": raw}
    digits = re.sub(r"[\s().-]", "", raw)
    if DIGITS.match(digits):
        return {"phone_suffix": digits}
    abort(400, description="phone must be E.164, like +14155552671, or its last 4 or more digits")


def order_filters() -> OrderFilters:
    """The query's number / phone / q / slot filters, as Orders.search keywords (400 if malformed)."""
    args, out = request.args, OrderFilters()
    if number := args.get("number"):
        m = NUMBER.match(number.strip())
        if not m:
            abort(400, description="number must be an order number, like 1002")
        out["number"] = int(m.group(1))
    phone = args.get("phone") or args.get("customer")
    if phone:
        out.update(_phone(phone if not phone.startswith(" ") else "+" + phone[1:]))
    if q := (args.get("q") or "").strip():
        m = NUMBER.match(q)
        if m and len(m.group(1)) < 7 and not q.startswith("+"):
            out["number"] = int(m.group(1))
        else:
            out.update(_phone(q))
    if slot := args.get("slot"):
        if not SLOT_ID.match(slot):
            abort(400, description="slot must be a delivery slot's id (from /api/slots or an order)")
        out["slot"] = slot
    return out
