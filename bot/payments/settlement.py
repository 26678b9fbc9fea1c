"""What Stripe's word does to an order: paid (the one way an order becomes paid), or expired.
Called by the webhook (bot/web/stripe_webhook.py) and by the expiry sweep (expiry.py) when it asks
Stripe about a session itself; each step is idempotent, so the two may race."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.common import redis_keys
from bot.customers import notify

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.payments")


def apply_paid(rt: Runtime, order_id: str, session_id: str, amount: int, currency: str,
               event_id: str) -> tuple[str, dict | None]:
    """The one way an order becomes paid (the webhook, or the expiry sweep asking Stripe). Returns
    the store's outcome (paid, duplicate, late, mismatch, unknown) and the order."""
    outcome, order = rt.store.payments.mark_paid(order_id, session_id, amount, currency, event_id)
    if order is None:
        return outcome, order
    if outcome == "paid":
        rt.redis.hincrby(redis_keys.STATS, "payments_paid", 1)
        rt.store.audit.record("stripe", "payment.paid", f"order:{order['number']}",
                              {"amount_cents": amount, "event": event_id})
        notify.order_update(rt, order, "paid", by="stripe")
    elif outcome == "late":  # the order had expired or was cancelled: its money must go back
        rt.redis.hincrby(redis_keys.STATS, "payments_after_release", 1)
        rt.store.audit.record("stripe", "payment.after_release", f"order:{order['number']}",
                              {"amount_cents": amount, "event": event_id, "status": order["status"]})
        log.warning("payment for order #%s arrived after it was %s: refund it", order["number"], order["status"])
    return outcome, order


def apply_expired(rt: Runtime, order_id: str, session_id: str) -> str:
    """Stripe says this order's session expired or its payment failed: release the order once.
    Returns 'unknown' (not this order's session), 'expired', or 'unchanged' (already moved on)."""
    order = rt.store.orders.get(order_id)
    if order is None or (order.get("payment") or {}).get("session_id") != session_id:
        return "unknown"
    expired, moved = rt.store.orders.expire(order_id, by="stripe")
    if not moved or expired is None:
        return "unchanged"
    rt.redis.hincrby(redis_keys.STATS, "orders_expired", 1)
    notify.order_update(rt, expired, "expired", by="stripe")
    return "expired"
