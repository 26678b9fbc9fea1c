"""Online payment on the order documents: the Stripe link, and the moves only Stripe may cause.

An order paid online is placed as `awaiting_payment` with `payment.status` "pending". It becomes
`confirmed` with `payment.status` "paid" only through `mark_paid`, which the signed webhook (or
the expiry sweep's look at Stripe) calls: one compare-and-set that also checks the session and
the amount, so a replayed or duplicated event changes nothing the second time. Expiry (and the
stock and slot it releases) is Orders.expire.
"""
from __future__ import annotations

import time

from pymongo import ReturnDocument

from bot.store.repository import Db, translate_errors


@translate_errors
class Payments:
    def __init__(self, db: Db) -> None:
        self.col = db.orders

    def ensure_indexes(self) -> None:  # the orders collection's indexes are Orders'
        return None

    def session_expiry(self, order_id: str, proposed: int) -> int:
        """The expiry to ask Stripe for, fixed by the first ask: a retried create must send the same
        parameters with its idempotency key, or Stripe refuses it (IdempotencyError)."""
        self.col.update_one({"_id": order_id, "payment.method": "online", "payment.asked_expires_at": None},
                            {"$set": {"payment.asked_expires_at": int(proposed)}})
        doc = self.col.find_one({"_id": order_id}, {"payment.asked_expires_at": 1}) or {}
        return int((doc.get("payment") or {}).get("asked_expires_at") or proposed)

    def set_link(self, order_id: str, session_id: str, url: str, expires_at: float) -> dict | None:
        """Record the Checkout Session made for a waiting order (the same one on a retried job)."""
        return self.col.find_one_and_update(
            {"_id": order_id, "payment.method": "online"},
            {"$set": {"payment.session_id": session_id, "payment.url": url, "payment.expires_at": expires_at}},
            return_document=ReturnDocument.AFTER)

    def pay_on_delivery_instead(self, order_id: str) -> dict | None:
        """The payment service could not make a link: the order goes ahead, paid at the door."""
        now = time.time()
        return self.col.find_one_and_update(
            {"_id": order_id, "status": "awaiting_payment", "payment.status": "pending"},
            {"$set": {"status": "confirmed", "payment.method": "on_delivery", "payment.status": "on_delivery",
                      "payment.fallback": True, "updated_at": now},
             "$unset": {"payment.asked_expires_at": ""},
             "$push": {"history": {"status": "confirmed", "at": now, "by": "payment fallback"}}},
            return_document=ReturnDocument.AFTER)

    def mark_paid(self, order_id: str, session_id: str, amount_cents: int, currency: str,
                  event_id: str) -> tuple[str, dict | None]:
        """('paid', order) the first time; ('duplicate', order) for an event already applied;
        ('late', order) when the order had already expired or been cancelled (a refund is owed);
        ('mismatch', order) when the session or amount is not this order's; ('unknown', None)."""
        order = self.col.find_one({"_id": order_id})
        pay = (order or {}).get("payment") or {}
        if order is None or not pay.get("session_id"):
            return "unknown", order
        if pay["session_id"] != session_id or amount_cents != order["total_cents"] or \
                currency.lower() != order["currency"].lower():
            return "mismatch", order
        now = time.time()
        paid = {"payment.status": "paid", "payment.paid_at": now, "payment.event_id": event_id,
                "payment.amount_cents": amount_cents}
        moved = self.col.find_one_and_update(
            {"_id": order_id, "status": "awaiting_payment", "payment.status": "pending"},
            {"$set": {"status": "confirmed", "updated_at": now, **paid},
             "$push": {"history": {"$each": [{"status": "paid", "at": now, "by": "stripe"},
                                             {"status": "confirmed", "at": now, "by": "stripe"}]}}},
            return_document=ReturnDocument.AFTER)
        if moved is not None:
            return "paid", moved
        late = self.col.find_one_and_update(
            {"_id": order_id, "status": {"$in": ["expired", "cancelled"]},
             "payment.status": {"$in": ["pending", "expired", "cancelled"]}},
            {"$set": {"payment.status": "paid_after_release", "payment.paid_at": now, "payment.event_id": event_id,
                      "payment.amount_cents": amount_cents, "updated_at": now}},
            return_document=ReturnDocument.AFTER)
        if late is not None:
            return "late", late
        return "duplicate", self.col.find_one({"_id": order_id})

    def due(self, now: float, limit: int = 100) -> list[dict]:
        """Orders whose payment time ran out, oldest first."""
        return list(self.col.find({"status": "awaiting_payment", "payment.expires_at": {"$lt": now}})
                    .sort("payment.expires_at", 1).limit(limit))

    def cancelled_open(self, limit: int = 100) -> list[dict]:
        """Cancelled orders whose Stripe session may still take a payment."""
        return list(self.col.find({"status": "cancelled", "payment.method": "online", "payment.status": "pending",
                                   "payment.session_id": {"$exists": True}}).limit(limit))

    def closed(self, order_id: str) -> None:
        self.col.update_one({"_id": order_id, "payment.status": "pending"}, {"$set": {"payment.status": "cancelled"}})

    def unreleased(self, older_than: float, limit: int = 100) -> list[dict]:
        """Expired orders whose stock and slot a crashed sweep did not put back yet."""
        return list(self.col.find({"status": "expired", "restocked": False, "updated_at": {"$lt": older_than}})
                    .limit(limit))
