"""The turn's reply, put into the customer's language by Gemini, or left in English.

Every number in the English text (prices, quantities, order numbers, a masked phone) is replaced
by a placeholder before the text leaves, so the model can neither see nor alter one; the
translation is used only if each placeholder comes back exactly as often as it went and the model
wrote no digits of its own. Any failure, or too little of the turn's time left, means English.
"""
from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass

from bot.errors import ModelUnavailable

from . import prompt as prompts
from .breaker import Breaker
from .gemini import GeminiCaller
from .limits import CallCap, ReadingCache, digest, who
from .schema import ModelTranslation
from .stats import ModelStats

log = logging.getLogger("orderline.nlu")

MIN_SECONDS = 0.3  # less than this left of the turn's time: do not start a call
_PROTECT = re.compile(r"\+?\d{1,3}\s*(?:•+\s*)+\d{2,4}|(?:[A-Z]{0,2}[$€£₹])?#?\d(?:[\d.,:/]*\d)?%?")
_PLACEHOLDER = re.compile(r"⟦\d+⟧")
_LANGUAGE = re.compile(r"[a-z]{2}")


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


def protect(text: str) -> Protected:
    values: list[str] = []

    def hold(m: re.Match) -> str:
        values.append(m.group())
        return f"⟦{len(values)}⟧"

    return Protected(_PROTECT.sub(hold, text), values)


class Translator:
    def __init__(self, caller: GeminiCaller, stats: ModelStats, breaker: Breaker, cap: CallCap,
                 cache: ReadingCache, budget_seconds: float):
        self.caller, self.stats, self.breaker, self.cap, self.cache = caller, stats, breaker, cap, cache
        self.budget = budget_seconds

    def translate(self, texts: list[str], language: str, customer_key: str, turn_started: float) -> list[str] | None:
        """`texts` in `language`, or None (send English). `turn_started` is time.monotonic() at the
        start of the turn: the model calls of one turn share one timeout."""
        if language == "en" or not texts or not _LANGUAGE.fullmatch(language or ""):
            return None
        held = [protect(t) for t in texts]
        key = digest(language, [h.text for h in held])
        cached = self.cache.get_text(key)
        if cached is not None and len(cached) == len(held):
            self.stats.count("translate_cache_hits")
            return [h.restore(t) for h, t in zip(held, cached)]
        left = turn_started + self.budget - time.monotonic()
        if left < MIN_SECONDS:
            return self._english("no_time")
        if not self.breaker.allow():
            return self._english("breaker_open")
        if not self.cap.take(who(customer_key)):
            return self._english("capped")
        started = time.monotonic()
        try:
            call = self.caller.generate(prompts.TRANSLATION_INSTRUCTION,
                                        prompts.build_translation([h.text for h in held], language),
                                        ModelTranslation, timeout=left)
        except ModelUnavailable as exc:
            self.stats.call("translate", (time.monotonic() - started) * 1000)
            self.breaker.failure()
            log.warning("translation failed (%s): %s; replying in English", exc.cause, exc)
            return self._english(exc.cause)
        self.breaker.success()
        self.stats.call("translate", call.latency_ms, call.tokens_in, call.tokens_out)
        out = call.parsed.texts if call.parsed is not None else []
        if len(out) != len(held) or not all(h.kept_by(t) for h, t in zip(held, out)):
            return self._english("invalid")
        self.cache.put_text(key, out)
        return [h.restore(t) for h, t in zip(held, out)]

    def _english(self, cause: str) -> None:
        self.stats.count(f"translate_fallback:{cause}")
        return None
