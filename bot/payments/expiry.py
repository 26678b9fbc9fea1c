"""Unpaid orders past their time: stock and slot go back, the customer is told once.

Started by the maintenance sweep (one process per interval) in a thread of its own, so a slow
Stripe never holds up the pipeline's upkeep. Before expiring an order it asks Stripe about the
session: a payment that completed (its webhook late or lost) makes the order paid instead; an
open session is expired first, so no payment can follow the release. While Stripe cannot be
reached, or a payment is still being processed, the order waits, up to GIVE_UP past its time;
then it is released anyway (a payment after that is recorded as paid after release, for a
refund). The links of cancelled orders are closed here too, out of the customer's turn.
Every step is a compare-and-set, so two processes sweeping at once tell the customer once.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from bot.common import redis_keys
from bot.customers import notify
from bot.payments.gateway import PaymentRefused, PaymentUnavailable
from bot.payments.settlement import apply_paid

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.payments")

GRACE = 60  # seconds past expiry before the sweep acts (the webhook usually comes first)
GIVE_UP = 3600  # seconds past expiry after which Stripe's silence no longer holds the stock


PER_SWEEP = 20  # orders looked at per sweep (the rest wait for the next one)
_running = threading.Lock()


def sweep_in_background(rt: Runtime) -> bool:
    """Start a sweep in its own thread unless this process is running one; True if started."""
    if not _running.acquire(blocking=False):
        return False

    def run():
        try:
            sweep(rt)
        except Exception:  # Stripe or MongoDB down: the next interval tries again
            log.exception("payment expiry sweep failed")
        finally:
            _running.release()

    threading.Thread(target=run, name="orderline-payment-expiry", daemon=True).start()
    return True


def sweep(rt: Runtime, now: float | None = None) -> int:
    now = time.time() if now is None else now
    released = 0
    for order in rt.store.payments.due(now - GRACE, limit=PER_SWEEP):
        released += _settle(rt, order, now)
    for order in rt.store.payments.unreleased(now - 60):  # a sweep that died between the two steps
        rt.store.orders.expire(order["_id"])
    for order in rt.store.payments.cancelled_open(limit=PER_SWEEP):
        _close(rt, order)
    return released


def _settle(rt: Runtime, order: dict, now: float) -> int:
    pay = order["payment"]
    session_id = pay.get("session_id")
    if session_id and rt.payments is not None:
        try:
            session = rt.payments.session(session_id)
            if session["status"] == "complete" and session["payment_status"] == "paid":
                apply_paid(rt, order["_id"], session_id, session["amount_total"], session["currency"],
                           f"sweep:{session_id}")
                return 0
            if session["status"] == "complete" and now < pay["expires_at"] + GIVE_UP:
                return 0  # paid by a method that takes a while: its webhook will say
            if session["status"] == "open":
                rt.payments.expire(session_id)
        except (PaymentUnavailable, PaymentRefused) as exc:
            if now < pay["expires_at"] + GIVE_UP:
                log.warning("order #%s: Stripe not reachable (%s); asking again later", order["number"], exc)
                return 0
    expired, moved = rt.store.orders.expire(order["_id"], by="payment expiry")
    if not moved or expired is None:
        return 0
    rt.redis.hincrby(redis_keys.STATS, "orders_expired", 1)
    notify.order_update(rt, expired, "expired", by="payment expiry")
    return 1


def _close(rt: Runtime, order: dict) -> None:
    """A cancelled order's Stripe session stops accepting payment (a payment that slipped through is
    recorded as paid after release, for a refund)."""
    if rt.payments is not None:
        try:
            session = rt.payments.session(order["payment"]["session_id"])
            if session["status"] == "open":
                rt.payments.expire(session["id"])
        except (PaymentUnavailable, PaymentRefused) as exc:
            log.warning("order #%s: could not close its payment link (%s); trying again later", order["number"], exc)
            return
    rt.store.payments.closed(order["_id"])
