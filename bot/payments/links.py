"""The Stripe Checkout link for an order waiting for payment.

Called by the worker (workers/perform.py). A retried job finds the link already made (or the
order already gone ahead) and answers the same. If Stripe cannot make a link, an order in a shop
that also takes payment on delivery goes ahead that way and the customer is told so; in a shop
that only takes online payment the error propagates (TransientError: the message is retried).
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from bot.payments.gateway import PaymentRefused, PaymentUnavailable

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.payments")

MIN_LIFETIME = 30 * 60 + 60  # Stripe refuses an expires_at less than 30 minutes away


def create(rt: Runtime, order_id: str, on_delivery_allowed: bool = True) -> dict:
    order = rt.store.orders.get(order_id)
    if order is None:  # orders are never deleted (erasure anonymises them)
        raise LookupError(f"no order {order_id} to make a payment link for")
    pay = order["payment"]
    base = {"number": str(order["number"]), "total_cents": order["total_cents"]}
    if pay.get("url"):  # made already (this is a retried job)
        return {**base, "ok": True, "url": pay["url"], "expires_at": pay["expires_at"]}
    if order["status"] != "awaiting_payment":  # gone ahead on delivery earlier
        return {**base, "ok": False, "fallback": True}
    expires_at = rt.store.payments.session_expiry(order_id, int(max(pay["expires_at"], time.time() + MIN_LIFETIME)))
    try:
        if rt.payments is None:
            raise PaymentUnavailable("Stripe is not configured")
        session = rt.payments.create_session(order, expires_at)
    except (PaymentUnavailable, PaymentRefused) as exc:
        if not on_delivery_allowed:
            raise
        log.warning("no payment link for order #%s (%s): it goes ahead to pay on delivery", order["number"], exc)
        rt.store.payments.pay_on_delivery_instead(order_id)
        return {**base, "ok": False, "fallback": True}
    rt.store.payments.set_link(order_id, session["id"], session["url"], session["expires_at"] or expires_at)
    return {**base, "ok": True, "url": session["url"], "expires_at": session["expires_at"] or expires_at}
