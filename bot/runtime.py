"""The runtime: every connection and long-lived collaborator of one process, built from settings.

Nothing connects at import. `build(settings)` is called once by the web app, the worker, the
CLI or a test; everything downstream receives the Runtime (or a piece of it) as an argument.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import fakeredis
from redis import Redis

from bot import pipeline
from bot.config import Settings
from bot.connections import check_services, redis_client
from bot.customers import codes
from bot.customers.codes import Codes
from bot.nlu import Understanding, build_understander
from bot.payments.gateway import StripeGateway
from bot.pipeline import DeadLetters, Ingress, Mailboxes, Outbox, Replicas, Scripts
from bot.shop.catalog_import import load_sample_catalog
from bot.shop.rules_source import ShopSource
from bot.store import Store, connect
from bot.store.catalog_cache import CatalogCache, announce_change
from channels.base import Sender
from channels.dev_sms import DevOutboxSender
from channels.telegram import TelegramSender
from channels.twilio_messaging import build_senders
from channels.twilio_verify import VerifyCodes

log = logging.getLogger("orderline.runtime")

_EMBEDDED_SERVER = None  # the embedded default's one fake Redis server, shared by web and worker threads


def connect_redis(settings: Settings) -> Redis:
    """A Redis client: the real server at REDIS_URL, the primary Sentinel names (REDIS_SENTINELS),
    or the process's fakeredis server."""
    global _EMBEDDED_SERVER
    if not settings.embedded:
        return redis_client(settings)
    if _EMBEDDED_SERVER is None:
        _EMBEDDED_SERVER = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_EMBEDDED_SERVER)


@dataclass
class Runtime:
    """One process's connections and collaborators; passed to whatever needs them, never global."""

    settings: Settings
    redis: Redis
    store: Store
    senders: dict[str, Sender]
    nlu: Understanding
    catalog: CatalogCache
    shop: ShopSource  # the shop's rules, re-read when the file changes
    scripts: Scripts
    ingress: Ingress
    mailboxes: Mailboxes
    outbox: Outbox
    deadletters: DeadLetters
    replicas: Replicas
    payments: StripeGateway | None = None  # when STRIPE_* are set
    codes: Codes | None = None  # one-time codes; None: no SMS sender and no Verify, typed numbers can't be proven

    def sender(self, channel: str) -> Sender | None:
        return self.senders.get(channel)


def build(settings: Settings, *, redis: Redis | None = None, store: Store | None = None,
          senders: dict[str, Sender] | None = None, load_sample: bool | None = None) -> Runtime:
    """Connect everything for one process; an empty catalog gets the sample one (SAMPLE_CATALOG).
    An unreachable Redis or MongoDB raises ServiceUnreachable, one line naming setting and host."""
    redis = redis if redis is not None else connect_redis(settings)
    store = store if store is not None else connect(settings)
    check_services(settings, redis, store)
    store.ensure_indexes()
    if load_sample if load_sample is not None else settings.SAMPLE_CATALOG:
        load_sample_catalog_once(store, redis)
    shop = ShopSource(settings)  # a broken shop file stops start-up here, with the reason
    senders = dict(senders) if senders is not None else default_senders(settings, redis)
    verify = VerifyCodes(settings) if settings.TWILIO_VERIFY_SERVICE_SID else None
    nlu = build_understander(settings, redis, shop)
    parts = pipeline.build(redis, int(settings.CLAIM_LEASE_SECONDS * 1000), settings.DEDUPE_TTL_SECONDS,
                           settings.REDIS_WAIT_REPLICAS or 0, settings.REDIS_WAIT_TIMEOUT_MS)
    return Runtime(
        settings=settings, redis=redis, store=store, senders=senders, nlu=nlu, shop=shop,
        catalog=CatalogCache(store, redis, on_change=nlu.use_catalog),
        scripts=parts.scripts, ingress=parts.ingress, mailboxes=parts.mailboxes, outbox=parts.outbox,
        deadletters=parts.deadletters, replicas=parts.replicas,
        payments=StripeGateway(settings) if settings.STRIPE_SECRET_KEY else None,
        codes=codes.build(settings, redis, senders, verify),  # warns at start when typed numbers can't be proven
    )


def load_sample_catalog_once(store: Store, redis: Redis) -> int:
    """First start: an empty products collection gets the sample catalog. Never overwrites a shop's own."""
    if store.products.count():
        return 0
    inserted, _ = store.products.upsert_many(load_sample_catalog())
    announce_change(redis)
    log.info("loaded the sample catalog: %d products", inserted)
    return inserted


def default_senders(settings: Settings, redis: Redis) -> dict[str, Sender]:
    """One sender per configured channel (nothing connects until the first send). Without Twilio,
    the embedded default's SMS goes to a dev outbox. Voice needs none: its replies are TwiML."""
    senders: dict[str, Sender] = dict(build_senders(settings, redis))
    if settings.TELEGRAM_BOT_TOKEN:
        senders["telegram"] = TelegramSender(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL, redis)
    if settings.embedded and "sms" not in senders:
        senders["sms"] = DevOutboxSender(redis)
    return senders
