"""Understanding a line with Gemini, and falling back to the offline reading whenever that fails.

Order of checks, cheapest first: lines the model must not or need not see (verify/register, a
phone number, a code, a bare number) -> the short cache -> the breaker -> the customer's cap ->
one model call under the timeout -> validation. Every way of ending up offline is counted as
nlu_fallback:<cause>; refused parts as nlu_invalid:<what>.
"""
from __future__ import annotations

import logging
import time

from bot.errors import ModelUnavailable

from . import prompt as prompts
from .breaker import Breaker
from .gemini import GeminiCaller, why_unparsed
from .limits import CallCap, LanguageMemory, ReadingCache, digest, who
from .matching import CatalogIndex
from .schema import ModelReading
from .stats import ModelStats
from .types import NluContext, NluResult
from .validate import ReadingCheck

log = logging.getLogger("orderline.nlu")

PRIVATE_STATES = frozenset({"verify", "register", "address"})  # phone numbers, codes, names and addresses
PRIVATE_STEPS = frozenset({"name", "address"})  # a new name or address typed from the menu or at confirm
# digits have no language in them; a change of name or address is a fixed phrase: nothing to ask
OFFLINE_INTENTS = frozenset({"phone", "code", "choice", "change_name", "change_address"})


class ModelReader:
    def __init__(self, caller: GeminiCaller, redis, stats: ModelStats, breaker: Breaker, cap: CallCap,
                 cache: ReadingCache, memory: LanguageMemory, currency: str, faq_source):
        self.caller, self.redis, self.stats = caller, redis, stats
        self.breaker, self.cap, self.cache, self.memory = breaker, cap, cache, memory
        self.currency = currency
        self.faq_source = faq_source  # () -> list of FAQ entries (re-read when the file changes)
        self.index: CatalogIndex | None = None
        self.fingerprint = ""

    def use_catalog(self, index: CatalogIndex) -> None:
        self.index = index
        self.fingerprint = digest([(p.sku, p.name, p.price_cents, p.unit, p.description) for p in index.catalog])

    def understand(self, text: str, ctx: NluContext, offline: NluResult) -> NluResult:
        customer = who(ctx.customer_key)
        if ctx.state in PRIVATE_STATES or ctx.step in PRIVATE_STEPS or offline.intent in OFFLINE_INTENTS \
                or not text.strip():
            self.stats.count("nlu_offline_only")
            if offline.intent != "other_language":
                offline.language = self.memory.get(customer)
            return offline
        faq = self.faq_source()
        key = digest(self.fingerprint, faq, ctx.state, ctx.step, ctx.max_quantity, " ".join(text.lower().split()))
        cached = self.cache.get(key, customer)
        if cached is not None:
            self.stats.count("nlu_cache_hits")
            self.memory.set(customer, cached.language)
            return cached
        if not self.breaker.allow():
            return self._fallback("breaker_open", offline)
        if not self.cap.take(customer):
            return self._fallback("capped", offline)
        reading = prompts.build_reading(text, ctx, self.index, faq, self.currency)
        started = time.monotonic()
        try:
            call = self.caller.generate(prompts.READING_INSTRUCTION, reading.contents, ModelReading)
        except ModelUnavailable as exc:
            self.stats.call("nlu", (time.monotonic() - started) * 1000)
            self.breaker.failure()
            log.warning("gemini failed (%s): %s; using the offline reading", exc.cause, exc)
            return self._fallback(exc.cause, offline)
        self.breaker.success()
        self.stats.call("nlu", call.latency_ms, call.tokens_in, call.tokens_out)
        if call.parsed is None:
            self.stats.count(f"nlu_invalid:{why_unparsed(call.text)}")
            return self._fallback("invalid", offline)
        check = ReadingCheck(self.index.catalog, self.index, faq)
        checked = check.check(call.parsed, reading, ctx)
        for problem in checked.problems:
            self.stats.count(f"nlu_invalid:{problem}")
        if checked.result is None:
            log.info("gemini reading refused (%s); using the offline reading", ", ".join(checked.problems))
            return self._fallback("invalid", offline)
        result = checked.result
        _counted_pieces(result, offline)
        if self._offline_knew(result, offline):
            offline.language = result.language  # the model shrugged; the offline parser knew
            return offline
        if result.answer:
            self.stats.count("nlu_answers")
        self.memory.set(customer, result.language)
        self.cache.put(key, customer, result)
        return result

    @staticmethod
    def _offline_knew(result: NluResult, offline: NluResult) -> bool:
        """The model shrugged ("unknown", or a question it could not answer) where the offline
        reading is sure. A reading that needed a spelling correction is never preferred to the
        model's "unknown": "price" corrected to "rice" is exactly what the model was right about."""
        if offline.fuzzy or offline.intent in ("unknown", "other_language"):
            return False
        if result.intent == "unknown" and not result.unknown:
            return True
        return result.intent == "question" and not result.answer and bool(offline.asked)

    def forget(self, customer_key: str) -> None:
        self.memory.forget(who(customer_key))

    def _fallback(self, cause: str, offline: NluResult) -> NluResult:
        self.stats.count(f"nlu_fallback:{cause}")
        return offline


def _counted_pieces(result: NluResult, offline: NluResult) -> None:
    """"6 bananas" read by the model as 6 of the product's unit (6 kg) where the offline reading
    counted 6 pieces (about 1.2 kg): the pieces are what the customer counted."""
    pieces = {i.sku: i for i in offline.items if i.count is not None}
    for item in result.items:
        counted = pieces.get(item.sku)
        if counted and item.count is None and item.action == counted.action and item.quantity == counted.count:
            item.quantity, item.count = counted.quantity, counted.count
