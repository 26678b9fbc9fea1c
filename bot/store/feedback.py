"""Customers' ratings of their delivered orders, stored with the order itself."""
from __future__ import annotations

from pymongo import DESCENDING

from bot.store.repository import Db, translate_errors


@translate_errors
class Feedback:
    def __init__(self, db: Db) -> None:
        self.orders = db.orders

    def ensure_indexes(self) -> None:
        self.orders.create_index([("feedback.at", DESCENDING)], name="feedback_at", sparse=True)

    def record(self, order_id: str, phone: str, rating: int, comment: str, key: str, now: float) -> bool:
        """Store the rating on the customer's own order, once: True if it is stored by this `key`
        (again, for a retried turn), False if the order is not theirs or was rated already."""
        if not 1 <= rating <= 5:
            raise ValueError("a rating is 1 to 5")
        res = self.orders.update_one(
            {"_id": order_id, "phone": phone, "$or": [{"feedback": {"$exists": False}}, {"feedback.key": key}]},
            {"$set": {"feedback": {"rating": rating, "comment": comment[:500], "key": key, "at": now}}})
        return res.matched_count == 1

    def recent(self, limit: int = 20) -> list[dict]:
        return list(self.orders.find({"feedback": {"$exists": True}},
                                     {"number": 1, "feedback": 1, "customer_name": 1}).sort("feedback.at", DESCENDING)
                    .limit(limit))
