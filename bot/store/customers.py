"""Customers: one document per verified phone, with the channel identities that proved it."""
from __future__ import annotations

import time
import uuid

from pymongo import ReturnDocument

from bot.store.repository import Db, translate_errors


@translate_errors
class Customers:
    def __init__(self, db: Db) -> None:
        self.col = db.customers

    def ensure_indexes(self) -> None:
        self.col.create_index("phone", unique=True, name="phone_unique")
        self.col.create_index("identities", name="identities")

    def find_by_phone(self, phone: str) -> dict | None:
        return self.col.find_one({"phone": phone})

    def save(self, phone: str, name: str, address: str, identity: str | None = None) -> dict:
        """Create or update the customer for `phone`; a twin registration races to one document."""
        now = time.time()
        update = {
            "$set": {"name": name, "address": address, "updated_at": now},
            "$setOnInsert": {"_id": uuid.uuid4().hex, "phone": phone, "created_at": now},
        }
        if identity:
            update["$addToSet"] = {"identities": identity}
        saved = self.col.find_one_and_update({"phone": phone}, update, upsert=True,
                                             return_document=ReturnDocument.AFTER)
        assert saved is not None, "an upsert returning the document after always has one"
        return saved

    def set_address(self, phone: str, address: str) -> None:
        """A new delivery address (the customer's old one was outside the shop's areas)."""
        self.col.update_one({"phone": phone}, {"$set": {"address": address, "updated_at": time.time()}})

    def change_detail(self, phone: str, field: str, value: str, key: str, channel: str) -> dict | None:
        """The customer's own change of name or address, recorded in `changes` (which field, when,
        on which channel; never the old value) once per message `key`, the last 20 kept."""
        if field not in ("name", "address"):
            raise ValueError(f"customers cannot change {field!r}")
        now = time.time()
        entry = {"field": field, "key": key, "channel": channel, "at": now}
        doc = self.col.find_one_and_update(
            {"phone": phone, "changes.key": {"$ne": key}},
            {"$set": {field: value, "updated_at": now}, "$push": {"changes": {"$each": [entry], "$slice": -20}}},
            return_document=ReturnDocument.AFTER)
        return doc or self.find_by_phone(phone)  # already recorded by an earlier try of the same message

    def add_identity(self, phone: str, identity: str) -> None:
        self.col.update_one({"phone": phone}, {"$addToSet": {"identities": identity}})

    def delete(self, phone: str) -> dict | None:
        """Remove the customer; returns what was removed (its identities must be unlinked too)."""
        return self.col.find_one_and_delete({"phone": phone})

    def count(self) -> int:
        return self.col.count_documents({})
