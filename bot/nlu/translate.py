"""The turn's reply, put into the customer's language by Gemini, or left in English.

A reply is translated line by line. Before a line leaves, every number in it (prices, quantities,
order numbers, a masked phone) and the customer's own name and address are replaced by
placeholders, so the model can neither see nor alter one; a translation is used only if each
placeholder comes back exactly as often as it went and the model wrote no digits of its own.

Where a line's translation comes from, cheapest first: the reading's own call (the reply was
drafted before it, see reader.py), the short line cache (lines repeat: "Your cart:", "Anything
else?"), and only then a translation call for the lines still missing (one call in the process for
customers who need exactly the same lines at the same moment). Any failure, or too little of the
turn's time left, means the whole reply goes in English (counted).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from redis import Redis

from bot.common import redis_keys
from bot.common.errors import ModelUnavailable
from bot.nlu import prompt as prompts
from bot.nlu.calls import CallGate
from bot.nlu.per_customer import digest, who
from bot.nlu.schema import ModelTranslation

log = logging.getLogger("orderline.nlu")

MIN_SECONDS = 0.3  # less than this left of the turn's time: do not start a call
_PROTECT = re.compile(r"\+?\d{1,3}\s*(?:•+\s*)+\d{2,4}|(?:[A-Z]{0,2}[$€£₹])?#?\d(?:[\d.,:/]*\d)?%?")
_PLACEHOLDER = re.compile(r"⟦\d+⟧")
_LANGUAGE = re.compile(r"[a-z]{2}")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class Protected:
    text: str
    values: list[str]

    def restore(self, translated: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.values[int(m.group()[1:-1]) - 1], translated)

    def kept_by(self, translated: str) -> bool:
        """Every placeholder as often as in the source, and no digit the source did not have."""
        if not translated.strip():
            return False
        wanted = Counter(_PLACEHOLDER.findall(self.text))
        if Counter(_PLACEHOLDER.findall(translated)) != wanted:
            return False
        return not any(ch.isdigit() for ch in _PLACEHOLDER.sub("", translated))

    @property
    def wordy(self) -> bool:
        """Anything to translate once the placeholders are out (not "", "• ⟦1⟧")."""
        return bool(_LETTER.search(_PLACEHOLDER.sub("", self.text)))


def protect(text: str, keep: tuple[str, ...] = ()) -> Protected:
    """`text` with its numbers, and each of the strings in `keep` (a name, an address), held out."""
    values: list[str] = []

    def hold(value: str) -> str:
        values.append(value)
        return f"⟦{len(values)}⟧"

    kept = sorted((k for k in set(keep) if k and len(k) >= 2 and k in text), key=len, reverse=True)
    pattern = re.compile("|".join([*map(re.escape, kept), _PROTECT.pattern])) if kept else _PROTECT
    return Protected(pattern.sub(lambda m: hold(m.group()), text), values)


def protected_lines(texts: list[str], keep: tuple[str, ...] = ()) -> list[list[Protected]]:
    """Each text's lines, protected one by one (so a line means the same in any reply)."""
    return [[protect(line, keep) for line in text.split("\n")] for text in texts]


class Phrasebook:
    """Checked line translations per language, shared by every process for `seconds` (0 = off).
    A key is a line with its numbers, name and address held out: nothing of one customer's."""

    def __init__(self, redis: Redis, seconds: int):
        self.redis, self.seconds = redis, seconds

    def lookup(self, language: str, lines: list[str]) -> dict[str, str]:
        if not self.seconds or not lines:
            return {}
        found = self.redis.mget([redis_keys.nlu_translation(digest(language, line)) for line in lines])
        return {line: json.loads(raw) for line, raw in zip(lines, found, strict=True) if raw}

    def store(self, language: str, pairs: dict[str, str]) -> None:
        if not self.seconds or not pairs:
            return
        pipe = self.redis.pipeline(transaction=False)
        for line, translated in pairs.items():
            pipe.set(redis_keys.nlu_translation(digest(language, line)), json.dumps(translated, ensure_ascii=False),
                     ex=self.seconds)
        pipe.execute()


def _rebuilt(lines: list[Protected], translated: dict[str, str]) -> str:
    return "\n".join(p.restore(translated[p.text]) if p.wordy else p.text for p in lines)


def checked(lines: list[Protected], answers: list[str]) -> dict[str, str] | None:
    """{protected line: translation} when every answer keeps its line's placeholders, else None."""
    if len(answers) != len(lines) or not all(p.kept_by(t) for p, t in zip(lines, answers, strict=True)):
        return None
    return {p.text: t for p, t in zip(lines, answers, strict=True)}


class Translator:
    def __init__(self, gate: CallGate, book: Phrasebook, budget_seconds: float):
        self.gate, self.book, self.budget = gate, book, budget_seconds
        self.stats = gate.stats
        # identical sets of lines being translated right now in this process (a rush of customers at the
        # same step of the same flow): one call, the others wait for its answer
        self._inflight: dict[tuple[str, tuple[str, ...]], Future[dict[str, str] | None]] = {}
        self._lock = threading.Lock()

    def translate(self, texts: list[str], language: str, customer_key: str, turn_started: float,
                  known: dict[str, str] | None = None, keep: tuple[str, ...] = ()) -> list[str] | None:
        """`texts` in `language`, or None (send English). `turn_started` is time.monotonic() at the
        start of the turn: the model calls of one turn share one timeout. `known`: lines the
        reading's call translated already; `keep`: strings never sent (the customer's name, address)."""
        if language == "en" or not texts or not _LANGUAGE.fullmatch(language or ""):
            return None
        held = protected_lines(texts, keep)
        wanted = {p.text: p for lines in held for p in lines if p.wordy}
        have, from_reading = self._known(language, list(wanted), known or {})
        missing = [p for line, p in wanted.items() if line not in have]
        if not missing:
            self.stats.count("translate_in_reading" if from_reading else "translate_cache_hits")
        else:
            fresh = self._ask(missing, language, customer_key, turn_started)
            if fresh is None:
                return None
            have.update(fresh)
        return [_rebuilt(lines, have) for lines in held]

    def _known(self, language: str, wanted: list[str], known: dict[str, str]) -> tuple[dict[str, str], bool]:
        """The lines translated already: by the reading's call (and whether any were), else cached."""
        have = {line: known[line] for line in wanted if line in known}
        have.update(self.book.lookup(language, [line for line in wanted if line not in have]))
        return have, any(line in known for line in wanted)

    def _ask(self, lines: list[Protected], language: str, customer_key: str,
             turn_started: float) -> dict[str, str] | None:
        left = turn_started + self.budget - time.monotonic()
        if left < MIN_SECONDS:
            self._english("no_time")
            return None
        key = (language, tuple(p.text for p in lines))
        with self._lock:
            running = self._inflight.get(key)
            if running is None:
                mine = self._inflight[key] = Future()
        if running is not None:
            return self._share(running, left)
        fresh = None
        try:
            fresh = self._call(lines, language, customer_key, left)
        finally:
            with self._lock:
                del self._inflight[key]
            mine.set_result(fresh)
        return fresh

    def _share(self, running: Future[dict[str, str] | None], left: float) -> dict[str, str] | None:
        """Another customer's call is translating exactly these lines: its answer serves both."""
        try:
            fresh = running.result(timeout=left)
        except FutureTimeout:
            self._english("no_time")
            return None
        if fresh is None:
            self._english("shared_failed")
            return None
        self.stats.count("translate_shared")
        return fresh

    def _call(self, lines: list[Protected], language: str, customer_key: str, left: float) -> dict[str, str] | None:
        closed = self.gate.closed_because(who(customer_key))
        if closed:
            self._english(closed)
            return None
        try:
            call = self.gate.call("translate", prompts.TRANSLATION_INSTRUCTION,
                                  prompts.build_translation([p.text for p in lines], language), ModelTranslation,
                                  timeout=left)
        except ModelUnavailable as exc:
            self._english(exc.cause)
            return None
        fresh = checked(lines, call.parsed.texts if isinstance(call.parsed, ModelTranslation) else [])
        if fresh is None:
            self._english("invalid")
            return None
        self.book.store(language, fresh)
        return fresh

    def _english(self, cause: str) -> None:
        """The reply goes in English (the caller answers None); counted by why."""
        self.stats.count(f"translate_fallback:{cause}")
