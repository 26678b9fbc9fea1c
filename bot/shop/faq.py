"""The shop's frequently asked questions: bot/data/faq.json, which the shop edits, and the entries
about its rules (fees, minimum, areas, hours, slots, payment) generated from the shop file in place
of any the JSON has.

Answers about delivery, payment and the like are read from here rather than written by the
language model, so the bot only ever states what the shop has said, and an answer about a rule can
only state what checkout applies. Opening hours and delivery times are generated only when the
shop file sets them; otherwise faq.json's words about them stay.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from statemachine.shopinfo import faq_entries


class FaqEntry(BaseModel):
    """One question and its answer; `topic` is a stable key such as "delivery_fee"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    topic: str = Field(min_length=1, max_length=60)
    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=2000)
    # other words customers use for this topic ("fee", "shipping"): found by the offline FAQ search
    keywords: list[str] = Field(default_factory=list, max_length=40)


class FaqError(ValueError):
    """The FAQ file is malformed; the message names the entry and field."""


_ENTRIES = TypeAdapter(list[FaqEntry])


def faq_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "faq.json"


def parse_faq(text: str) -> list[dict]:
    """FAQ entries as plain dicts, in file order; topics must be unique so lookups are unambiguous."""
    try:
        entries = _ENTRIES.validate_python(json.loads(text))
    except json.JSONDecodeError as exc:
        raise FaqError(f"FAQ is not valid JSON: line {exc.lineno}: {exc.msg}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}{e['msg'].lower()}" for e in exc.errors())
        raise FaqError(f"FAQ is invalid: {problems}") from None
    topics = [e.topic for e in entries]
    repeated = sorted({t for t in topics if topics.count(t) > 1})
    if repeated:
        raise FaqError(f"FAQ topics appear more than once: {', '.join(repeated)}")
    return [e.model_dump() for e in entries]


def _where(loc: tuple) -> str:
    """(3, "answer") -> "entry 4 answer: ": entries counted from 1, as a person reads the file."""
    if not loc:
        return "the file must be a list of entries: "
    return " ".join([f"entry {loc[0] + 1}", *(str(p) for p in loc[1:])]) + ": "


def load_faq(path: str | Path | None = None) -> list[dict]:
    """The shop's FAQ (bot/data/faq.json unless a path is given), validated."""
    return parse_faq(Path(path or faq_path()).read_text(encoding="utf-8-sig"))


def with_rules(entries: list[dict], rules, currency: str) -> list[dict]:
    """The file's entries, with those about the rules generated from the rules instead."""
    generated = faq_entries(rules, currency)
    topics = {e["topic"] for e in generated}
    return generated + [e for e in entries if e["topic"] not in topics]
