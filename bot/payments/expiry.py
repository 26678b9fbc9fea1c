"""Unpaid orders past their time: stock and slot go back, the customer is told once.

Run by the maintenance sweep (one process per interval). Before expiring an order it asks
Stripe about the session: a payment that completed (its webhook late or lost) makes the order
paid instead; an open session is expired first, so no payment can follow the release. While
Stripe cannot be reached the order waits, up to GIVE_UP past its time; then it is released
anyway (a payment after that is recorded as paid after release, for a refund).
"""
from __future__ import annotations

import logging
import time

from .. import keys, notify
from .gateway import PaymentRefused, PaymentUnavailable
from .webhook import apply_paid

log = logging.getLogger("orderline.payments")

GRACE = 60  # seconds past expiry before the sweep acts (the webhook usually comes first)
GIVE_UP = 3600  # seconds past expiry after which Stripe's silence no longer holds the stock


def sweep(rt, now: float | None = None) -> int:
    now = time.time() if now is None else now
    released = 0
    for order in rt.store.payments.due(now - GRACE):
        released += _settle(rt, order, now)
    for order in rt.store.payments.unreleased(now - 60):  # a sweep that died between the two steps
        rt.store.orders.expire(order["_id"])
    return released


def _settle(rt, order: dict, now: float) -> int:
    pay = order["payment"]
    session_id = pay.get("session_id")
    if session_id and rt.payments is not None:
        try:
            session = rt.payments.session(session_id)
            if session["status"] == "complete" and session["payment_status"] == "paid":
                apply_paid(rt, order["_id"], session_id, session["amount_total"], session["currency"],
                           f"sweep:{session_id}")
                return 0
            if session["status"] == "open":
                rt.payments.expire(session_id)
        except (PaymentUnavailable, PaymentRefused) as exc:
            if now < pay["expires_at"] + GIVE_UP:
                log.warning("order #%s: Stripe not reachable (%s); asking again later", order["number"], exc)
                return 0
    expired = rt.store.orders.expire(order["_id"], by="payment expiry")
    if expired is None:
        return 0
    rt.redis.hincrby(keys.STATS, "orders_expired", 1)
    notify.order_update(rt, expired, "expired", by="payment expiry")
    return 1
