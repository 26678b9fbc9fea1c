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

The array stays small because settled entries (anything but `held`) older than `RETAIN_SECONDS`
are removed, and the same update raises the document's `fence` to that age; a take or put for a
key whose time `at` is at or below the fence is refused ("fenced"). A caller slower than the
retention window therefore can never take again for a key whose entry was removed.

`checkpoint(point)` is called before every database operation; tests replace it to interleave
two callers at every point (tests/unit/test_stock_once.py). It does nothing in production.
"""
from __future__ import annotations

HELD, KEPT, RETURNED, VOID, DONE = "held", "kept", "returned", "void", "done"
TAKEN, SHORT, CLOSED, FENCED, MISSING = "taken", "short", "closed", "fenced", "missing"
RETAIN_SECONDS = 24 * 3600  # settled entries are kept this long: far beyond any retried placement


def _no_checkpoint(point: str) -> None:
    return None


class Moves:
    """Keyed, exactly-once moves of the counters of one collection's documents."""

    def __init__(self, col):
        self.col = col
        self.checkpoint = _no_checkpoint

    def take(self, match: dict, key: str, at: float, inc: dict, guard: dict) -> str:
        """Apply `inc` for `key` once, if `guard` holds. TAKEN (now or earlier), SHORT (the guard
        failed), CLOSED (the key was settled without it: give back / void), FENCED, MISSING."""
        for _ in range(5):  # the guard may change between the update and the read: look again
            self.checkpoint("take")
            res = self.col.update_one(
                {**match, **guard, "moves.k": {"$ne": key}, "fence": {"$not": {"$gte": at}}},
                {"$inc": inc, "$push": {"moves": {"k": key, "at": at, "s": HELD}}})
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
                                      {"$push": {"moves": {"k": key, "at": at, "s": VOID}}})
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
        res = self.col.update_one({**match, "moves.k": {"$ne": key}, "fence": {"$not": {"$gte": at}}},
                                  {"$inc": inc, "$push": {"moves": {"k": key, "at": at, "s": DONE}}})
        return bool(res.modified_count)

    def compact(self, match: dict, now: float) -> None:
        """Drop settled entries older than the retention window and fence their keys off."""
        before = now - RETAIN_SECONDS
        old = {"s": {"$ne": HELD}, "at": {"$lte": before}}
        self.checkpoint("compact")
        self.col.update_many({**match, "moves": {"$elemMatch": old}},
                             {"$pull": {"moves": old}, "$max": {"fence": before}})


def _entry(doc: dict, key: str) -> dict | None:
    return next((m for m in doc.get("moves") or () if m.get("k") == key), None)
