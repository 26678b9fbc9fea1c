"""The runtime: every connection and long-lived collaborator of one process, built from settings.

Nothing connects at import. `build(settings)` is called once by the web app, the worker, the
CLI or a test; everything downstream receives the Runtime (or a piece of it) as an argument.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from bot import keys, otp, pipeline
from bot.catalog import Catalog
from bot.config import Settings
from bot.connections import check_services, redis_client
from bot.pipeline import DeadLetters, Ingress, Mailboxes, Outbox, Replicas, Scripts
from bot.shop import ShopSource
from bot.store import Store, connect
from channels.base import Sender

log = logging.getLogger("orderline.runtime")

_EMBEDDED_SERVER = None  # the embedded default's one fake Redis server, shared by web and worker threads


def connect_redis(settings: Settings):
    """A Redis client: the real server at REDIS_URL, the primary Sentinel names (REDIS_SENTINELS),
    or the process's fakeredis server."""
    global _EMBEDDED_SERVER
    if not settings.embedded:
        return redis_client(settings)
    import fakeredis

    if _EMBEDDED_SERVER is None:
        _EMBEDDED_SERVER = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_EMBEDDED_SERVER)


class CatalogCache:
    """The products snapshot a process converses with; reloaded when stale or when the catalog changes.

    An operator's edit or an import bumps the catalog version: every process sees the new version
    within CHECK_EVERY seconds (one GET) and reloads at once. Stock moved by orders does not bump it:
    the snapshot is reloaded every `max_age` seconds anyway. Stock in the snapshot is a courtesy for
    replies ('only 3 left'); placement re-reads the store.
    """

    CHECK_EVERY = 0.2  # seconds between looks at the catalog version

    def __init__(self, store: Store, redis, max_age: float = 2.0, on_change=None):
        self.store, self.redis, self.max_age = store, redis, max_age
        self.on_change = on_change  # called with the new Catalog when names/prices changed
        self._catalog = Catalog([])
        self._version = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._refreshing = threading.Lock()

    def _due(self, fresh: bool = False) -> bool:
        now = time.monotonic()
        if now - self._loaded_at >= self.max_age:
            return True
        if fresh or now - self._checked_at >= self.CHECK_EVERY:
            self._checked_at = now
            return self.redis.get(keys.CATALOG_VERSION) != self._version
        return False

    def current(self, fresh: bool = False) -> Catalog:
        """The snapshot; one lane refreshes a stale one while the others go on with it. `fresh`: look
        at the catalog version now, and wait for the reload (a change announced a moment ago)."""
        if self._due(fresh):
            first = fresh or not self._loaded_at
            if self._refreshing.acquire(blocking=first):
                try:
                    self.refresh()
                finally:
                    self._refreshing.release()
        return self._catalog

    def refresh(self) -> Catalog:
        version = self.redis.get(keys.CATALOG_VERSION)
        products = self.store.products.all()
        content_changed = version != self._version or len(products) != len(self._catalog)
        catalog = Catalog(products)
        if content_changed and self.on_change:
            self.on_change(catalog)  # before the snapshot is published: no lane sees it without its parser
        self._catalog, self._version, self._loaded_at = catalog, version, time.monotonic()
        return catalog

    def bump(self) -> None:
        """Tell every process that names or prices changed (after an import or an operator edit)."""
        self.redis.incr(keys.CATALOG_VERSION)
        self._loaded_at = 0.0


@dataclass
class Runtime:
    settings: Settings
    redis: object
    store: Store
    senders: dict[str, Sender] = field(default_factory=dict)
    nlu: object = None
    catalog: CatalogCache = None
    scripts: Scripts = None
    ingress: Ingress = None
    mailboxes: Mailboxes = None
    outbox: Outbox = None
    deadletters: DeadLetters = None
    replicas: Replicas = None
    shop: object = None  # bot.shop.ShopSource: the shop's rules, re-read when the file changes
    payments: object = None  # bot.payments.gateway.StripeGateway when STRIPE_* are set, else None
    codes: object = None  # bot.otp.Codes: one-time codes (None: no SMS sender, no Verify: typed numbers can't be proven)

    def sender(self, channel: str) -> Sender | None:
        return self.senders.get(channel)


def build(settings: Settings, *, redis=None, store: Store | None = None, senders: dict | None = None,
          load_sample: bool | None = None) -> Runtime:
    """Connect everything for one process; an empty catalog gets the sample one (SAMPLE_CATALOG).
    An unreachable Redis or MongoDB raises ServiceUnreachable, one line naming setting and host."""
    from bot.nlu import build_understander

    redis = redis if redis is not None else connect_redis(settings)
    store = store if store is not None else connect(settings)
    check_services(settings, redis, store)
    store.ensure_indexes()
    if load_sample if load_sample is not None else settings.SAMPLE_CATALOG:
        load_sample_catalog_once(store, redis)
    rt = Runtime(settings=settings, redis=redis, store=store)
    rt.shop = ShopSource(settings)  # a broken shop file stops start-up here, with the reason
    if settings.STRIPE_SECRET_KEY:
        from bot.payments.gateway import StripeGateway

        rt.payments = StripeGateway(settings)
    rt.senders = dict(senders) if senders is not None else default_senders(settings, redis)
    rt.codes = otp.build(settings, redis, rt.senders)  # warns at start when typed numbers can't be proven
    rt.nlu = build_understander(settings, rt)
    rt.catalog = CatalogCache(store, redis, on_change=getattr(rt.nlu, "use_catalog", None))
    parts = pipeline.build(redis, int(settings.CLAIM_LEASE_SECONDS * 1000), settings.DEDUPE_TTL_SECONDS,
                           settings.REDIS_WAIT_REPLICAS or 0, settings.REDIS_WAIT_TIMEOUT_MS)
    rt.scripts, rt.mailboxes, rt.outbox = parts.scripts, parts.mailboxes, parts.outbox
    rt.ingress, rt.deadletters, rt.replicas = parts.ingress, parts.deadletters, parts.replicas
    return rt


def load_sample_catalog_once(store: Store, redis) -> int:
    """First start: an empty products collection gets the sample catalog. Never overwrites a shop's own."""
    if store.products.count():
        return 0
    from bot.catalog_import import load_sample_catalog

    inserted, _ = store.products.upsert_many(load_sample_catalog())
    redis.incr(keys.CATALOG_VERSION)
    log.info("loaded the sample catalog: %d products", inserted)
    return inserted


def default_senders(settings: Settings, redis) -> dict[str, Sender]:
    """One sender per configured channel (nothing connects until the first send). Without Twilio,
    the embedded default's SMS goes to a dev outbox. Voice needs none: its replies are TwiML."""
    from channels.outbox import DevOutboxSender
    from channels.twilio_messaging import build_senders

    senders: dict[str, Sender] = dict(build_senders(settings, redis))
    if settings.TELEGRAM_BOT_TOKEN:
        from channels.telegram import TelegramSender

        senders["telegram"] = TelegramSender(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL, redis)
    if settings.embedded and "sms" not in senders:
        senders["sms"] = DevOutboxSender(redis)
    return senders
