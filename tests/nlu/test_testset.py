"""The offline reading of 300+ realistic customer lines (tests/nlu/*.jsonl) scores at least 97% on
intents and on items; the score is printed at the end of the run."""
from __future__ import annotations

from tests.nlu import scoring

TARGET = 97.0


def test_the_test_set_is_big_and_varied():
    rows = scoring.rows()
    assert len(rows) >= 300
    assert {r["state"] for r in rows} >= {"greeting", "register", "menu", "order", "confirm"}


def test_intents_and_items_score_at_least_97_percent():
    score = scoring.score()
    misses = "\n".join(score.misses)
    assert score.pct(score.intents) >= TARGET, misses
    assert score.pct(score.items) >= TARGET, misses
