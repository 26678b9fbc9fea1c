"""Exactly-once changes to a counter on one document (a product's stock, a slot's bookings).

Each change is named by a key (an order's idempotency key, or "cancel:<order id>") and leaves an
entry in the document's own `moves` array, written by the same single-document update that moves
the counter. A key's entry only ever moves forward:

    (none) --take--> held --keep--> kept          the order was placed: the counter stays moved
                     held --give back--> returned  the order failed: the counter is moved back
    (none) --void--> void                          the order failed before this line was taken
    (none) --put---> done                          a one-off change (a cancellation's restock)

Every transition is one conditional update, so two callers racing on one key cannot both apply
it, and nothing ever returns a key to "(none)" while someone might still act on it: a take needs
"(none)", so a late or duplicate caller finds the entry and stops. That is why placement needs no
lease and no transaction: whoever is slow simply finds the work done (see orders.py).

The array stays small because settled entries are removed once old, and the same update raises
the document's fence to that age (each entry carries `x`, the time it may go; compaction runs at
most once a minute per document); a take (or void) for a key whose time `at` is at or below
`fence` is refused ("fenced"), and so is a put at or below `fence_put`. A caller slower than the
window therefore can never apply again a change whose entry was removed: it is refused, which
costs liveness, never correctness (a placement retried that late fails as "stale" and the
customer is asked to say yes again). Placements' entries (kept, returned, void) are kept for
TAKE_RETAIN, an hour, well past the pipeline's retries; puts (a cancellation's restock, retried
by the maintenance sweep, possibly after a long store outage) for PUT_RETAIN, a day.

`checkpoint(point)` is called before every database operation; tests replace it to interleave
two callers at every point (tests/unit/test_stock_once.py). It does nothing in production.
"""
from __future__ import annotations

from collections.abc import Iterable

from bot.store.repository import Col

HELD, KEPT, RETURNED, VOID, DONE = "held", "kept", "returned", "void", "done"
TAKEN, SHORT, CLOSED, FENCED, MISSING = "taken", "short", "closed", "fenced", "missing"
TAKE_RETAIN = 3600  # seconds a placement's settled entries are kept
PUT_RETAIN = 24 * 3600  # seconds a put's entry is kept (puts are rare: cancellations)
COMPACT_EVERY = 60  # seconds: a document is compacted at most this often
MEMO_LIMIT = 1000  # documents a process remembers compacting before it forgets the stale ones


def _no_checkpoint(point: str) -> None:
    return None


class Moves:
    """Keyed, exactly-once moves of the counters of one collection's documents."""

    def __init__(self, col: Col) -> None:
        self.col = col
        self.checkpoint = _no_checkpoint
        self._compacted: dict[str, float] = {}  # document id -> when this process last compacted it

    def take(self, match: dict, key: str, at: float, inc: dict, guard: dict) -> str:
        """Apply `inc` for `key` once, if `guard` holds. TAKEN (now or earlier), SHORT (the guard
        failed), CLOSED (the key was settled without it: give back / void), FENCED, MISSING."""
        for _ in range(5):  # the guard may change between the update and the read: look again
            self.checkpoint("take")
            res = self.col.update_one(
                {**match, **guard, "moves.k": {"$ne": key}, "fence": {"$not": {"$gte": at}}},
                {"$inc": inc, "$push": {"moves": {"k": key, "at": at, "s": HELD, "x": at + TAKE_RETAIN}}})
            if res.modified_count:
                return TAKEN
            self.checkpoint("take:why")
            doc = self.col.find_one(match, {"moves": 1, "fence": 1})
            if doc is None:
                return MISSING
            entry = _entry(doc, key)
            if entry is not None:
                return TAKEN if entry["s"] in (HELD, KEPT) else CLOSED
            if doc.get("fence", float("-inf")) >= at:
                return FENCED
            if self.col.count_documents({**match, **guard}, limit=1) == 0:
                return SHORT
        return SHORT

    def keep(self, match: dict, key: str) -> None:
        """The order was placed: its held entries become settled (and may be compacted later)."""
        self.checkpoint("keep")
        self.col.update_many({**match, "moves": {"$elemMatch": {"k": key, "s": HELD}}},
                             {"$set": {"moves.$.s": KEPT}})

    def give_back(self, match: dict, key: str, at: float, inc: dict) -> None:
        """The order failed: undo its take (`inc` is the take's change) if there was one, else mark
        the key so that no take can follow."""
        for _ in range(5):  # each step moves the entry forward; three always suffice
            self.checkpoint("give_back")
            res = self.col.update_one({**match, "moves": {"$elemMatch": {"k": key, "s": HELD}}},
                                      {"$inc": {f: -n for f, n in inc.items()}, "$set": {"moves.$.s": RETURNED}})
            if res.modified_count:
                return
            self.checkpoint("void")
            res = self.col.update_one({**match, "moves.k": {"$ne": key}},
                                      {"$push": {"moves": {"k": key, "at": at, "s": VOID, "x": at + TAKE_RETAIN}}})
            if res.modified_count:
                return
            self.checkpoint("give_back:why")
            doc = self.col.find_one(match, {"moves": 1})
            entry = _entry(doc, key) if doc else None
            if doc is None or (entry is not None and entry["s"] != HELD):
                return  # gone, or settled by another caller

    def put(self, match: dict, key: str, at: float, inc: dict) -> bool:
        """A one-off change for `key` (no guard): True if it happened now or before."""
        self.checkpoint("put")
        res = self.col.update_one({**match, "moves.k": {"$ne": key}, "fence_put": {"$not": {"$gte": at}}},
                                  {"$inc": inc, "$push": {"moves": {"k": key, "at": at, "s": DONE,
                                                                    "x": at + PUT_RETAIN}}})
        return bool(res.modified_count)

    def compact(self, field: str, ids: Iterable[str], now: float) -> None:
        """Drop settled entries past their time and fence their keys off, in the documents whose
        `field` is in `ids`; at most once a minute per document. The filter on `compacted_at`
        decides for every process; a process skips the round trip for documents it compacted
        itself within the minute."""
        self.checkpoint("compact")
        due = [i for i in ids if now - self._compacted.get(i, float("-inf")) >= COMPACT_EVERY]
        if not due:
            return
        if len(self._compacted) > MEMO_LIMIT:  # slots come and go: forget what no longer saves a trip
            self._compacted = {i: t for i, t in list(self._compacted.items()) if now - t < COMPACT_EVERY}
        self._compacted.update((i, now) for i in due)
        match = {field: {"$in": due}}
        self.col.update_many(
            {**match, "compacted_at": {"$not": {"$gt": now - COMPACT_EVERY}}},
            {"$pull": {"moves": {"s": {"$ne": HELD}, "x": {"$lte": now}}},
             "$max": {"fence": now - TAKE_RETAIN, "fence_put": now - PUT_RETAIN}, "$set": {"compacted_at": now}})


def _entry(doc: dict, key: str) -> dict | None:
    return next((m for m in doc.get("moves") or () if m.get("k") == key), None)
