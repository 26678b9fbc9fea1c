"""Message history: every line in and out, with what was understood, for operators and exports.

Row ids are derived from the channel message id, so a message processed twice (a worker died
before committing) writes its history once.
"""
from __future__ import annotations

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError

from .base import translate_errors


@translate_errors
class Messages:
    def __init__(self, db):
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

    def for_customer(self, phone: str | None, identities=(), limit: int = 200) -> list[dict]:
        """Newest first; `limit=0` for all. Without a phone, only the identities' rows."""
        ors = ([{"phone": phone}] if phone else []) + ([{"identity": {"$in": list(identities)}}] if identities else [])
        if not ors:
            return []
        return list(self.col.find({"$or": ors}).sort("at", DESCENDING).limit(limit))

    def erase(self, phone: str | None, identities=()) -> int:
        ors = ([{"phone": phone}] if phone else []) + ([{"identity": {"$in": list(identities)}}] if identities else [])
        if not ors:
            return 0
        return self.col.delete_many({"$or": ors}).deleted_count

    def get(self, row_id: str) -> dict | None:
        return self.col.find_one({"_id": row_id})

    def delete_older_than(self, cutoff: float) -> int:
        return self.col.delete_many({"at": {"$lt": cutoff}}).deleted_count

    def count(self, query: dict | None = None) -> int:
        return self.col.count_documents(query or {})
