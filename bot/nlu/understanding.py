"""The process's understander: the offline parser always, a language model in front of it when
configured (GEMINI_API_KEY), and replies put into the customer's language by the same model."""
from __future__ import annotations

import dataclasses

from redis import Redis

from bot.config import Settings
from bot.nlu.breaker import Breaker
from bot.nlu.calls import CallGate
from bot.nlu.faq_source import FaqSource
from bot.nlu.gemini import GeminiCaller
from bot.nlu.model_counters import ModelStats
from bot.nlu.offline import OfflineParser
from bot.nlu.per_customer import CallCap, LanguageMemory, ReadingCache
from bot.nlu.reader import Draft, ModelReader
from bot.nlu.translate import Phrasebook, Translator
from bot.nlu.types import NluContext, NluResult
from bot.shop.catalog import Catalog
from bot.shop.rules_source import ShopSource


class Understanding:
    """The process's understander. `use_catalog` is called whenever product names or prices change."""

    def __init__(self, max_quantity: int = 50, reader: ModelReader | None = None, translator: Translator | None = None,
                 address_check: str = "strict", faq_source: FaqSource | None = None):
        self.max_quantity = max_quantity
        self.address_check = address_check
        self.offline: OfflineParser | None = None  # made by use_catalog
        self.faq_source = faq_source  # None: the offline parser makes its own
        self.reader = reader  # None: offline only
        self.translator = translator  # None: replies stay English

    def use_catalog(self, catalog: Catalog) -> None:
        parser = self.offline = OfflineParser(catalog, self.max_quantity, faq_source=self.faq_source,
                                              address_check=self.address_check)
        if self.reader is not None:
            self.reader.use_catalog(parser.index)

    def understand(self, text: str, ctx: NluContext, draft: Draft | None = None) -> NluResult:
        """What the line means. `draft(reading) -> ([reply texts], (name, address...))`, when given,
        lets the model's call also translate the reply the turn would make from the offline reading
        (one call, not two)."""
        parser = self.offline
        if parser is None:
            raise RuntimeError("no catalog loaded: call use_catalog() first")
        offline = parser.understand(text, ctx)
        if self.reader is None:
            return offline
        return self.reader.understand(text, ctx, offline, draft, _unplaced(parser, text, ctx, offline))

    def forget(self, customer_key: str) -> None:
        """Drop what the backend remembers about this customer (their language), for "delete my data"."""
        if self.reader is not None:
            self.reader.forget(customer_key)

    def translate(self, texts: list[str], language: str, customer_key: str, turn_started: float,
                  known: dict | None = None, keep: tuple[str, ...] = ()) -> list[str] | None:
        """The turn's reply texts in `language`, or None to send them in English. `known`: lines the
        reading's call translated (NluResult.translated); `keep`: the customer's name and address."""
        if self.translator is None:
            return None
        return self.translator.translate(texts, language, customer_key, turn_started, known, keep)


def _unplaced(parser: OfflineParser, text: str, ctx: NluContext, offline: NluResult) -> bool:
    """Words that looked like products and matched nothing. Outside the cart the parser keeps
    quiet about them (a menu line is read for its command), so ask it as the cart would."""
    if offline.unknown or offline.intent != "add_items" or ctx.state == "order":
        return bool(offline.unknown)
    return bool(parser.items(text, dataclasses.replace(ctx, state="order")).unknown)


def faq_for(settings: Settings, shop: ShopSource | None = None) -> FaqSource:
    """The FAQ both readers answer from: the shop's file, with the entries its rules generate (fees,
    minimum, areas, hours, payment) in place of the file's, so the bot never says one thing and does
    another."""
    return FaqSource(shop=shop, currency=settings.CURRENCY)


def build_understander(settings: Settings, redis: Redis | None = None, shop: ShopSource | None = None) -> Understanding:
    """Offline only without GEMINI_API_KEY (nothing is counted: that is not a fallback). `redis`
    holds what every process shares about model calls; `shop` (a ShopSource) the rules the FAQ
    answers from."""
    if not settings.GEMINI_API_KEY or redis is None:
        return Understanding(settings.MAX_ITEM_QUANTITY, address_check=settings.ADDRESS_CHECK,
                             faq_source=faq_for(settings, shop))
    stats = ModelStats(redis)
    breaker = Breaker(redis, settings.GEMINI_BREAKER_FAILURES, settings.GEMINI_BREAKER_COOLDOWN_SECONDS,
                      probe_seconds=settings.GEMINI_TIMEOUT_SECONDS + 5,
                      on_open=lambda: stats.count("nlu_breaker_opened"))
    gate = CallGate(GeminiCaller.from_settings(settings), stats, breaker,
                    CallCap(redis, settings.GEMINI_MAX_CALLS_PER_MINUTE))
    book = Phrasebook(redis, settings.GEMINI_CACHE_SECONDS)
    faq = faq_for(settings, shop)  # one FAQ file watcher for the model's prompt and the offline answers
    reader = ModelReader(gate, ReadingCache(redis, settings.GEMINI_CACHE_SECONDS), LanguageMemory(redis), book,
                         settings.CURRENCY, faq)
    translator = Translator(gate, book, settings.GEMINI_TIMEOUT_SECONDS)
    return Understanding(settings.MAX_ITEM_QUANTITY, reader=reader, translator=translator,
                         address_check=settings.ADDRESS_CHECK, faq_source=faq)

