"""The audit log: what operators did (who, what, to which thing, when), kept in MongoDB.

`who` is the label of the token that was used, never the token. A customer's phone in `target`
is masked, so deleting a customer's data does not leave their number behind here.
"""
from __future__ import annotations

import time
import uuid

from pymongo import DESCENDING

from bot.store.repository import Db, translate_errors


@translate_errors
class Audit:
    def __init__(self, db: Db) -> None:
        self.col = db.audit

    def ensure_indexes(self) -> None:
        self.col.create_index([("at", DESCENDING)], name="at")
        self.col.create_index([("action", 1), ("at", DESCENDING)], name="action_at")

    def record(self, who: str, action: str, target: str, details: dict | None = None) -> dict:
        entry = {"_id": uuid.uuid4().hex, "who": who, "action": action, "target": target,
                 "details": details or {}, "at": time.time()}
        self.col.insert_one(entry)
        return entry

    def recent(self, limit: int = 100, action: str | None = None) -> list[dict]:
        query = {"action": action} if action else {}
        return list(self.col.find(query).sort("at", DESCENDING).limit(limit))

    def count(self, query: dict | None = None) -> int:
        return self.col.count_documents(query or {})
