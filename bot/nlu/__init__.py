"""Understanding text: one entry point, `understand(text, ctx) -> NluResult`, whatever the backend.

The offline parser always exists (the conversation works fully offline); a language-model backend,
when configured (GEMINI_API_KEY), sits in front of it and falls back to it. The same backend puts
replies into the customer's language (`translate`); without it, replies stay English.
"""
from __future__ import annotations

from .types import NluContext, NluResult, Understander


class Understanding:
    """The process's understander. `use_catalog` is called whenever product names or prices change."""

    def __init__(self, max_quantity: int = 50, reader=None, translator=None, address_check: str = "strict",
                 faq_source=None):
        self.max_quantity = max_quantity
        self.address_check = address_check
        self.offline = None
        self.faq_source = faq_source  # bot.nlu.faq_source.FaqSource; None: the offline parser makes its own
        self.reader = reader  # bot.nlu.reader.ModelReader, or None: offline only
        self.translator = translator  # bot.nlu.translate.Translator, or None: replies stay English

    def use_catalog(self, catalog) -> None:
        from .offline import OfflineParser

        self.offline = OfflineParser(catalog, self.max_quantity, faq_source=self.faq_source,
                                     address_check=self.address_check)
        if self.reader is not None:
            self.reader.use_catalog(self.offline.index)

    def understand(self, text: str, ctx: NluContext) -> NluResult:
        if self.offline is None:
            raise RuntimeError("no catalog loaded: call use_catalog() first")
        offline = self.offline.understand(text, ctx)
        if self.reader is None:
            return offline
        return self.reader.understand(text, ctx, offline)

    def forget(self, customer_key: str) -> None:
        """Drop what the backend remembers about this customer (their language), for "delete my data"."""
        if self.reader is not None:
            self.reader.forget(customer_key)

    def translate(self, texts: list[str], language: str, customer_key: str, turn_started: float) -> list[str] | None:
        """The turn's reply texts in `language`, or None to send them in English."""
        if self.translator is None:
            return None
        return self.translator.translate(texts, language, customer_key, turn_started)


def faq_for(settings, runtime=None):
    """The FAQ both readers answer from: the shop's file, with the entries its rules generate (fees,
    minimum, areas, hours, payment) in place of the file's, so the bot never says one thing and does
    another."""
    from .faq_source import FaqSource

    return FaqSource(shop=getattr(runtime, "shop", None), currency=settings.CURRENCY)


def build_understander(settings, runtime=None) -> Understanding:
    """Offline only without GEMINI_API_KEY (nothing is counted: that is not a fallback)."""
    if not settings.GEMINI_API_KEY or runtime is None:
        return Understanding(settings.MAX_ITEM_QUANTITY, address_check=settings.ADDRESS_CHECK,
                             faq_source=faq_for(settings, runtime))
    from .breaker import Breaker
    from .gemini import GeminiCaller
    from .limits import CallCap, LanguageMemory, ReadingCache
    from .reader import ModelReader
    from .stats import ModelStats
    from .translate import Translator

    redis = runtime.redis
    caller = GeminiCaller.from_settings(settings)
    stats = ModelStats(redis)
    breaker = Breaker(redis, settings.GEMINI_BREAKER_FAILURES, settings.GEMINI_BREAKER_COOLDOWN_SECONDS,
                      probe_seconds=settings.GEMINI_TIMEOUT_SECONDS + 5,
                      on_open=lambda: stats.count("nlu_breaker_opened"))
    cap = CallCap(redis, settings.GEMINI_MAX_CALLS_PER_MINUTE)
    cache = ReadingCache(redis, settings.GEMINI_CACHE_SECONDS)
    faq = faq_for(settings, runtime)
    reader = ModelReader(caller, redis, stats, breaker, cap, cache, LanguageMemory(redis), settings.CURRENCY, faq)
    translator = Translator(caller, stats, breaker, cap, cache, settings.GEMINI_TIMEOUT_SECONDS)
    # one FAQ file watcher for the model's prompt and the offline answers
    return Understanding(settings.MAX_ITEM_QUANTITY, reader=reader, translator=translator,
                         address_check=settings.ADDRESS_CHECK, faq_source=faq)


__all__ = ["NluContext", "NluResult", "Understander", "Understanding", "build_understander"]
