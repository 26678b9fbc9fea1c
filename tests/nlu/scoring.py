"""Scoring the offline reading against tests/nlu/*.jsonl: one customer line per row, with the state
(and step) it arrives in and what it means.

Row fields: text, state, step?, intent (null: any intent will do), items ([{sku, quantity,
action}]: exactly these, quantities to 0.01; [] means the line adds nothing), and optionally
ambiguous (candidate sets), invalid ([{reason, sku}]), unknown (the names not found), asked
({kind, skus?, topic?}, or null for a question nothing answers), name, address, choice.
A row with `options` is the answer to "which <which> did you mean?" among those skus: it is read
as the conversation reads it (understanding, then the pick among the options; intent "choice"
with the item picked, or "no" for none of them).

Scores: intents (rows that name an intent), items (every row), details (rows with any of the
optional fields). `python -m tests.nlu.scoring` prints the misses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext
from bot.shop.catalog import Catalog
from bot.shop.catalog_import import load_sample_catalog
from statemachine import clarify

HERE = Path(__file__).resolve().parent
DETAILS = ("ambiguous", "invalid", "unknown", "asked", "name", "address", "choice")
LAST: Score | None = None  # the latest score, for the terminal summary (tests/nlu/conftest.py)


@dataclass
class Score:
    rows: int = 0
    intents: list[int] = field(default_factory=lambda: [0, 0])  # right, counted
    items: list[int] = field(default_factory=lambda: [0, 0])
    details: list[int] = field(default_factory=lambda: [0, 0])
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def pct(pair: list[int]) -> float:
        return 100.0 * pair[0] / pair[1] if pair[1] else 100.0

    def summary(self) -> str:
        return (f"NLU test set (tests/nlu/*.jsonl, {self.rows} lines): intents {self.pct(self.intents):.1f}% "
                f"({self.intents[0]}/{self.intents[1]}), items {self.pct(self.items):.1f}% "
                f"({self.items[0]}/{self.items[1]}), details {self.pct(self.details):.1f}% "
                f"({self.details[0]}/{self.details[1]})")


def rows() -> list[dict]:
    out = []
    for path in sorted(HERE.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append({**json.loads(line), "_where": f"{path.name}:{n}"})
    return out


def reading(parser: OfflineParser, row: dict) -> dict:
    """What the conversation would act on for this row, as a plain dict."""
    result = parser.understand(row["text"], NluContext(state=row["state"], step=row.get("step")))
    got = result.to_dict()
    if "options" in row:
        products = [parser.catalog.get(s) for s in row["options"]]
        chosen = clarify.pick(row["text"], result.choice if result.intent == "choice" else None, result.intent,
                              products, row.get("which", ""))
        if chosen == clarify.NONE:
            return {**got, "intent": "no", "items": []}
        if chosen is not None:
            return {**got, "intent": "choice", "items": [{"sku": chosen.sku, "quantity": 1, "action": "add"}]}
    return got


def _items(items: list[dict]) -> list[tuple]:
    return sorted((i["sku"], i.get("action", "add"), round(float(i["quantity"]), 2)) for i in items)


def _same_items(want: list[dict], got: list[dict]) -> bool:
    a, b = _items(want), _items(got)
    return len(a) == len(b) and all(x[:2] == y[:2] and abs(x[2] - y[2]) <= 0.01 for x, y in zip(a, b, strict=True))


def _detail_misses(row: dict, got: dict) -> list[str]:
    misses = []
    for key in DETAILS:
        if key not in row or row[key] is None and key == "unknown":
            continue
        want = row[key]
        if key == "ambiguous":
            ok = [set(a) for a in want] == [set(a["candidates"]) for a in got["ambiguous"]]
        elif key == "invalid":
            ok = [(w["reason"], w.get("sku")) for w in want] == [(b["reason"], b["sku"]) for b in got["invalid"]]
        elif key == "unknown":
            ok = [w.lower() for w in want] == [u["text"].lower() for u in got["unknown"]]
        elif key == "asked":
            asked = got.get("asked") or {}
            ok = (want is None and not asked) or (want is not None and all(
                (set(asked.get(k) or []) == set(v)) if k == "skus" else asked.get(k) == v for k, v in want.items()))
        else:
            ok = got.get(key) == want
        if not ok:
            misses.append(f"{key}: want {want!r}, got {got.get(key)!r}")
    return misses


def score(parser: OfflineParser | None = None) -> Score:
    global LAST
    parser = parser or OfflineParser(Catalog(load_sample_catalog()))
    s = Score()
    for row in rows():
        got = reading(parser, row)
        s.rows += 1
        problems = []
        if row.get("intent") is not None:
            s.intents[1] += 1
            if got["intent"] == row["intent"]:
                s.intents[0] += 1
            else:
                problems.append(f"intent: want {row['intent']}, got {got['intent']}")
        s.items[1] += 1
        if _same_items(row.get("items", []), got["items"]):
            s.items[0] += 1
        else:
            problems.append(f"items: want {_items(row.get('items', []))}, got {_items(got['items'])}")
        if any(k in row for k in DETAILS):
            s.details[1] += 1
            detail = _detail_misses(row, got)
            s.details[0] += not detail
            problems += detail
        if problems:
            s.misses.append(f"{row['_where']} {row['text']!r} ({row['state']}): " + "; ".join(problems))
    LAST = s
    return s


if __name__ == "__main__":
    result = score()
    print("\n".join(result.misses))
    print(result.summary())
