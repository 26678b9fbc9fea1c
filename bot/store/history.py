"""Message history: every line in and out, with what was understood, for operators and exports.

Row ids are derived from the channel message id, so a message processed twice (a worker died
before committing) writes its history once.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError

from bot.store.repository import Db, translate_errors


@translate_errors
class Messages:
    def __init__(self, db: Db) -> None:
        self.col = db.messages

    def ensure_indexes(self) -> None:
        self.col.create_index([("phone", 1), ("at", DESCENDING)], name="phone_at")
        self.col.create_index([("identity", 1), ("at", DESCENDING)], name="identity_at")
        self.col.create_index("at", name="at")

    def record(self, rows: list[dict]) -> int:
        """Insert rows (each with a deterministic `_id`); rows already present are skipped."""
        if not rows:
            return 0
        try:
            return len(self.col.insert_many(rows, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
            return exc.details.get("nInserted", 0)

    @staticmethod
    def _whose(phone: str | None, identities: Iterable[str]) -> dict | None:
        """A customer's rows: those carrying their phone, and rows without a phone (written before
        the identity proved a number) only from `identities`, the ones linked to that phone now.
        A row carrying another phone is never theirs, whichever identity wrote it (an integrator's
        identity that serves many phones writes rows for each)."""
        ors: list[dict[str, Any]] = [{"phone": phone}] if phone else []
        ors += (
            [{"phone": None, "identity": {"$in": list(identities)}}] if identities else [])
        return {"$or": ors} if ors else None

    def for_customer(self, phone: str | None, identities: Iterable[str] = (), limit: int = 200) -> list[dict]:
        """Newest first; `limit=0` for all. `identities`: those linked to the phone (see _whose)."""
        query = self._whose(phone, identities)
        return list(self.col.find(query).sort("at", DESCENDING).limit(limit)) if query else []

    def erase(self, phone: str | None, identities: Iterable[str] = ()) -> int:
        query = self._whose(phone, identities)
        return self.col.delete_many(query).deleted_count if query else 0

    def identities_of(self, phone: str) -> list[str]:
        """Every identity that wrote a row carrying this phone (its own channels, a linked chat, an
        integrator's user vouching for it)."""
        return [i for i in self.col.distinct("identity", {"phone": phone}) if i]

    def claim(self, identity: str, phone: str) -> int:
        """Rows this identity wrote without a phone (before it proved a number) become that number's:
        done when the identity is linked to it, so a later link to another number never takes them."""
        return self.col.update_many({"identity": identity, "phone": None}, {"$set": {"phone": phone}}).modified_count

    def get(self, row_id: str) -> dict | None:
        return self.col.find_one({"_id": row_id})

    def delete_older_than(self, cutoff: float) -> int:
        return self.col.delete_many({"at": {"$lt": cutoff}}).deleted_count

    def count(self, query: dict | None = None) -> int:
        return self.col.count_documents(query or {})
