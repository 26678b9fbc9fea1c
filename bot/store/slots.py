"""Delivery slots: how many deliveries each slot has booked, never more than its capacity.

One document per slot (`_id` = its local start, "2026-12-02T16:00"), created on first booking.
A booking is a keyed move (moves.py) on `booked`, guarded by `booked < capacity` in the same
conditional update, so however many checkouts race for the last place exactly one gets it, and
an order's booking (or its release on cancellation or expiry) happens once.
"""
from __future__ import annotations

from collections.abc import Iterable

from pymongo.errors import DuplicateKeyError

from bot.store.moves import Moves
from bot.store.repository import Db, translate_errors


@translate_errors
class Slots:
    def __init__(self, db: Db) -> None:
        self.col = db.slots
        self.moves = Moves(self.col)

    def ensure_indexes(self) -> None:
        self.col.create_index("start", name="start")

    def _ensure(self, slot: dict) -> None:
        try:
            self.col.update_one({"_id": slot["id"]}, {"$setOnInsert": {
                "start": slot["start"], "end": slot["end"], "label": slot.get("label", ""), "booked": 0, "moves": []}},
                upsert=True)
        except DuplicateKeyError:  # two first bookings at once: the other created it
            pass

    def book(self, slot: dict, capacity: int, key: str, at: float) -> str:
        """Take one place in `slot` for `key`, once: moves.TAKEN, SHORT (full), CLOSED or FENCED."""
        self._ensure(slot)
        return self.moves.take({"_id": slot["id"]}, key, at, {"booked": 1}, {"booked": {"$lt": capacity}})

    def keep(self, slot_id: str, key: str) -> None:
        self.moves.keep({"_id": slot_id}, key)

    def give_back(self, slot: dict, key: str, at: float) -> None:
        self._ensure(slot)
        self.moves.give_back({"_id": slot["id"]}, key, at, {"booked": 1})

    def release(self, slot_id: str, key: str, at: float) -> bool:
        """Free the place a placed order held (cancelled, expired), once for `key`."""
        return self.moves.put({"_id": slot_id}, key, at, {"booked": -1})

    def compact(self, slot_id: str, now: float) -> None:
        self.moves.compact("_id", [slot_id], now)

    def booked(self, slot_ids: Iterable[str]) -> dict[str, int]:
        return {d["_id"]: d["booked"] for d in self.col.find({"_id": {"$in": list(slot_ids)}}, {"booked": 1})}
