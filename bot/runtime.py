"""The runtime: every connection and long-lived collaborator of one process, built from settings.

Nothing connects at import. `build(settings)` is called once by the web app, the worker, the
CLI or a test; everything downstream receives the Runtime (or a piece of it) as an argument.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from channels.base import Sender

from . import keys
from .catalog import Catalog
from .config import Settings
from .connections import check_services, redis_client
from .ingress import Ingress
from .mailbox import Mailboxes
from .replication import ReplicatedSender
from .store import Store, connect

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

    Stock in the snapshot is a courtesy for replies ('only 3 left'); placement re-reads the store.
    """

    def __init__(self, store: Store, redis, max_age: float = 2.0, on_change=None):
        self.store, self.redis, self.max_age = store, redis, max_age
        self.on_change = on_change  # called with the new Catalog when names/prices changed
        self._catalog = Catalog([])
        self._version = None
        self._loaded_at = 0.0

    def current(self) -> Catalog:
        now = time.monotonic()
        if now - self._loaded_at >= self.max_age:
            self.refresh()
        return self._catalog

    def refresh(self) -> Catalog:
        version = self.redis.get(keys.CATALOG_VERSION)
        products = self.store.products.all()
        content_changed = version != self._version or len(products) != len(self._catalog)
        self._catalog = Catalog(products)
        self._version, self._loaded_at = version, time.monotonic()
        if content_changed and self.on_change:
            self.on_change(self._catalog)
        return self._catalog

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
    ingress: Ingress = None
    mailboxes: Mailboxes = None

    def sender(self, channel: str) -> Sender | None:
        """The channel's sender; with REDIS_WAIT_REPLICAS it first waits for the replicas (bot/replication.py)."""
        sender = self.senders.get(channel)
        if sender is not None and self.settings.REDIS_WAIT_REPLICAS:
            return ReplicatedSender(sender, self.redis, self.settings.REDIS_WAIT_REPLICAS,
                                    self.settings.REDIS_WAIT_TIMEOUT_MS)
        return sender


def build(settings: Settings, *, redis=None, store: Store | None = None, senders: dict | None = None,
          load_sample: bool | None = None) -> Runtime:
    """Connect everything for one process; an empty catalog gets the sample one (SAMPLE_CATALOG).
    An unreachable Redis or MongoDB raises ServiceUnreachable, one line naming setting and host."""
    from .nlu import build_understander

    redis = redis if redis is not None else connect_redis(settings)
    store = store if store is not None else connect(settings)
    check_services(settings, redis, store)
    store.ensure_indexes()
    if load_sample if load_sample is not None else settings.SAMPLE_CATALOG:
        load_sample_catalog_once(store, redis)
    rt = Runtime(settings=settings, redis=redis, store=store)
    rt.senders = dict(senders) if senders is not None else default_senders(settings, redis)
    rt.nlu = build_understander(settings, rt)
    rt.catalog = CatalogCache(store, redis, on_change=getattr(rt.nlu, "use_catalog", None))
    rt.mailboxes = Mailboxes(redis, lease_ms=int(settings.CLAIM_LEASE_SECONDS * 1000))
    rt.ingress = Ingress(rt.mailboxes, settings.DEDUPE_TTL_SECONDS)
    rt.ingress.replica_wait = (settings.REDIS_WAIT_REPLICAS, settings.REDIS_WAIT_TIMEOUT_MS)  # bot/replication.py
    return rt


def load_sample_catalog_once(store: Store, redis) -> int:
    """First start: an empty products collection gets the sample catalog. Never overwrites a shop's own."""
    if store.products.count():
        return 0
    from .catalog_import import load_sample_catalog

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
