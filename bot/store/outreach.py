"""What a customer asked the shop to send them first, and what they asked it not to.

Both live on the customer's own document, so erasing the customer erases them too:
- `waiting_for`: [{sku, identity, at}] products they want to hear about when back in stock;
- `outreach`: {"reminders": true | false, "at"} said "start reminders" / "stop reminders"
  (absent: never said).
"""
from __future__ import annotations

from pymongo import ReturnDocument

from bot.store.repository import Db, translate_errors

MAX_WAITING = 20  # products one customer may wait for at once (the oldest request goes)


@translate_errors
class Outreach:
    def __init__(self, db: Db) -> None:
        self.customers = db.customers

    def ensure_indexes(self) -> None:
        self.customers.create_index("waiting_for.sku", name="waiting_for_sku", sparse=True)

    def wait_for(self, phone: str, sku: str, identity: str, now: float) -> bool:
        """Remember that `phone` wants to hear (on `identity`) when `sku` is back; asking again
        replaces the request. False if there is no such customer."""
        self.customers.update_one({"phone": phone}, {"$pull": {"waiting_for": {"sku": sku}}})
        res = self.customers.update_one({"phone": phone}, {"$push": {"waiting_for": {
            "$each": [{"sku": sku, "identity": identity, "at": now}], "$slice": -MAX_WAITING}}})
        return res.matched_count == 1

    def take_waiting(self, sku: str, limit: int = 1000) -> list[dict]:
        """Everyone waiting for `sku`, each taken off its list by exactly one caller (however many
        announce the restock at once): [{"phone", "identity", "at"}]."""
        taken = []
        for doc in list(self.customers.find({"waiting_for.sku": sku}, {"_id": 1}).limit(limit)):
            before = self.customers.find_one_and_update(
                {"_id": doc["_id"], "waiting_for.sku": sku}, {"$pull": {"waiting_for": {"sku": sku}}},
                projection={"phone": 1, "waiting_for": 1}, return_document=ReturnDocument.BEFORE)
            if before is None:
                continue  # another caller took it first
            entry = next(e for e in before["waiting_for"] if e["sku"] == sku)
            taken.append({"phone": before["phone"], "identity": entry["identity"], "at": entry["at"]})
        return taken

    def waiting(self, sku: str) -> int:
        return self.customers.count_documents({"waiting_for.sku": sku})

    def set_reminders(self, phone: str, on: bool, now: float) -> None:
        self.customers.update_one({"phone": phone}, {"$set": {"outreach": {"reminders": on, "at": now}}})

    def reminders(self, phone: str) -> bool | None:
        """True: opted in; False: opted out; None: never said (or no such customer)."""
        doc = self.customers.find_one({"phone": phone}, {"outreach": 1})
        return ((doc or {}).get("outreach") or {}).get("reminders")
