"""Conversation records: one document per conversation for operators (started, state, outcome).

The live state is in Redis; this is the durable trace of it, written at the first turn and when a
milestone state is reached (workers/record.py MILESTONES): identified, back at the menu after an
order or a cancel, waiting for a person, starting over.
The conversation key is the document's `_id`: every write is by primary key, no second index.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.store.repository import Db, translate_errors


@translate_errors
class Conversations:
    def __init__(self, db: Db) -> None:
        self.col = db.conversations

    def ensure_indexes(self) -> None:
        self.col.create_index("phone", name="phone")
        self.col.create_index([("state", 1), ("updated_at", -1)], name="state_updated")

    def touch(self, key: str, *, state: str, channel: str, phone: str | None, now: float, started_at: float) -> None:
        self.col.update_one(
            {"_id": key},
            {"$set": {"state": state, "channel": channel, "phone": phone, "updated_at": now},
             "$setOnInsert": {"started_at": started_at}},
            upsert=True,
        )

    def erase(self, phone: str | None, keys: Iterable[str] = ()) -> int:
        ors: list[dict[str, Any]] = [{"phone": phone}] if phone else []
        ors += ([{"_id": {"$in": list(keys)}}] if keys else [])
        return self.col.delete_many({"$or": ors}).deleted_count if ors else 0

    def for_customer(self, phone: str | None, keys: Iterable[str] = ()) -> list[dict]:
        ors: list[dict[str, Any]] = [{"phone": phone}] if phone else []
        ors += ([{"_id": {"$in": list(keys)}}] if keys else [])
        return [{"key": d.pop("_id"), **d} for d in self.col.find({"$or": ors})] if ors else []

    def count(self, query: dict | None = None) -> int:
        return self.col.count_documents(query or {})
