"""Compaction's per-process memo: no round trip for a document this process compacted within the
minute, and the memo does not grow with every slot a long-running worker ever saw."""
from __future__ import annotations

import mongomock

from bot.store.moves import COMPACT_EVERY, MEMO_LIMIT, Moves


class Counting:
    def __init__(self, col):
        self.col, self.calls = col, 0

    def update_many(self, *args, **kwargs):
        self.calls += 1
        return self.col.update_many(*args, **kwargs)


def test_a_document_compacted_within_the_minute_costs_no_round_trip():
    col = Counting(mongomock.MongoClient().db.products)
    moves = Moves(col)  # type: ignore[arg-type]
    moves.compact("sku", ["EGGS"], 1000.0)
    moves.compact("sku", ["EGGS"], 1000.0 + COMPACT_EVERY - 1)
    assert col.calls == 1
    moves.compact("sku", ["EGGS"], 1000.0 + COMPACT_EVERY)
    assert col.calls == 2


def test_the_memo_forgets_documents_past_the_minute_once_it_is_large():
    moves = Moves(Counting(mongomock.MongoClient().db.slots))  # type: ignore[arg-type]
    for i in range(MEMO_LIMIT + 1):
        moves.compact("_id", [f"slot-{i}"], 1000.0)
    moves.compact("_id", ["slot-new"], 1000.0 + COMPACT_EVERY)
    assert len(moves._compacted) == 1
