"""Understanding a line with Gemini when the offline reading is unsure, and falling back to the
offline reading whenever the model fails.

Order, cheapest first: the cascade (cascade.py: a line read with certainty, or a private one, never
reaches the model) -> the short cache (an identical prompt: the same recent turns and candidate
products, not just the same words) -> the breaker -> the customer's cap -> one model call under
the timeout -> validation. Every way of ending up offline is counted as nlu_fallback:<cause>;
refused parts as nlu_invalid:<what>; why the model was asked as nlu_asked:<reason>.

When the customer probably writes in another language and the reply can be known before the call
(a `draft` of it from the offline reading: a new customer's welcome, a line the parser read but
the model should confirm), the draft's lines travel in the same call and come back translated,
so the turn needs no second call for its reply (translate.py uses them).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from bot.common.errors import ModelUnavailable
from bot.nlu import cascade
from bot.nlu import prompt as prompts
from bot.nlu.calls import CallGate
from bot.nlu.gemini import why_unparsed
from bot.nlu.language import foreign_language
from bot.nlu.matching import CatalogIndex
from bot.nlu.per_customer import LanguageMemory, ReadingCache, digest, who
from bot.nlu.schema import ModelReading, ModelReadingWithReply
from bot.nlu.translate import Phrasebook, Protected, checked, protected_lines
from bot.nlu.types import NluContext, NluResult
from bot.nlu.validate import ReadingCheck

log = logging.getLogger("orderline.nlu")

WITH_REPLY = prompts.READING_INSTRUCTION + prompts.REPLY_TRANSLATION_RULES
DRAFT_STATES = frozenset({"greeting"})  # where the reply hardly depends on the reading: drafting pays
# draft(reading) -> ([reply texts], (name, address...)): the reply the turn would make from that reading,
# and the customer's words to hold out of its translation
Draft = Callable[[NluResult], tuple[list[str], tuple[str, ...]]]


class ModelReader:
    def __init__(self, gate: CallGate, cache: ReadingCache, memory: LanguageMemory, book: Phrasebook,
                 currency: str, faq_source: Callable[[], list[dict]]):
        self.gate, self.stats, self.cache, self.memory, self.book = gate, gate.stats, cache, memory, book
        self.currency = currency
        self.faq_source = faq_source  # () -> list of FAQ entries (re-read when the file changes)
        self.index: CatalogIndex | None = None
        self.fingerprint = ""

    def use_catalog(self, index: CatalogIndex) -> None:
        self.index = index
        self.fingerprint = digest([(p.sku, p.name, p.price_cents, p.unit, p.description) for p in index.catalog])

    def understand(self, text: str, ctx: NluContext, offline: NluResult, draft: Draft | None = None,
                   unplaced: bool = False) -> NluResult:
        """`draft` (optional, see Draft): what the turn would answer with a reading, for the call to
        translate; `unplaced`: product-like words the parser could not place (see understanding._unplaced)."""
        customer = who(ctx.customer_key)
        reason = cascade.why_ask(text, ctx, offline, unplaced)
        if reason is None:
            self.stats.count("nlu_offline_only")
            if offline.intent != "other_language":
                offline.language = self.memory.get(customer)
            return offline
        self.stats.count(f"nlu_asked:{reason}")
        faq, index = self.faq_source(), self._catalog_index()
        reading = prompts.build_reading(text, ctx, index, faq, self.currency)
        key = digest(self.fingerprint, reading.context)
        cached = self.cache.get(key, customer)
        if cached is not None:
            self.stats.count("nlu_cache_hits")
            self.memory.set(customer, cached.language)
            return cached
        closed = self.gate.closed_because(customer)
        if closed:
            return self._fallback(closed, offline)
        lines = self._draft_lines(text, ctx, offline, customer, draft)
        if lines:
            reading = prompts.build_reading(text, ctx, index, faq, self.currency, [p.text for p in lines])
        try:
            call = self.gate.call("nlu", WITH_REPLY if lines else prompts.READING_INSTRUCTION, reading.contents,
                                  ModelReadingWithReply if lines else ModelReading)
        except ModelUnavailable as exc:
            return self._fallback(exc.cause, offline)
        if not isinstance(call.parsed, ModelReading):  # None: the answer did not fit the schema
            self.stats.count(f"nlu_invalid:{why_unparsed(call.text)}")
            return self._fallback("invalid", offline)
        checked_reading = ReadingCheck(index.catalog, index, faq).check(call.parsed, reading, ctx)
        for problem in checked_reading.problems:
            self.stats.count(f"nlu_invalid:{problem}")
        result = checked_reading.result
        if result is None:
            log.info("gemini reading refused (%s); using the offline reading", ", ".join(checked_reading.problems))
            return self._fallback("invalid", offline)
        _counted_pieces(result, offline)
        if self._offline_knew(result, offline):
            offline.language = result.language  # the model shrugged; the offline parser knew
            self._keep_translations(lines, call.parsed, offline)
            return offline
        if result.answer:
            self.stats.count("nlu_answers")
        self.memory.set(customer, result.language)
        self.cache.put(key, customer, result)
        self._keep_translations(lines, call.parsed, result)
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

    def _catalog_index(self) -> CatalogIndex:
        if self.index is None:
            raise RuntimeError("no catalog loaded: call use_catalog() first")
        return self.index

    def _draft_lines(self, text: str, ctx: NluContext, offline: NluResult, customer: str,
                     draft: Draft | None) -> list[Protected]:
        """The reply lines to translate in the reading's call: only when the customer probably does
        not write in English, the reply can be guessed before the call, and the lines are not all
        known already."""
        if draft is None:
            return []
        guessed = offline.language if offline.intent == "other_language" else foreign_language(text)
        language = guessed or self.memory.get(customer)
        if language == "en" or (ctx.state not in DRAFT_STATES and offline.intent in ("unknown", "other_language")):
            return []
        try:
            texts, personal = draft(offline)
        except Exception:  # a draft is a guess: failing to make one must never cost the turn
            log.exception("could not draft the reply; it will be translated after the reading")
            return []
        wanted = {p.text: p for lines in protected_lines(texts, (*ctx.keep, *personal)) for p in lines if p.wordy}
        known = self.book.lookup(language, list(wanted))
        return [p for line, p in wanted.items() if line not in known]

    def _keep_translations(self, lines: list[Protected], parsed: ModelReading, result: NluResult) -> None:
        """The reply lines the call translated, checked, for this turn and the line cache."""
        if not lines or result.language == "en":
            return
        fresh = checked(lines, getattr(parsed, "reply_texts", []) or [])
        if fresh is None:
            self.stats.count("translate_fallback:invalid_in_reading")
            return
        result.translated = fresh
        self.book.store(result.language, fresh)

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
