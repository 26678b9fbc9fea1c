"""`python -m bot doctor`: what an operator should know before taking orders, one line per check;
and `python -m bot healthcheck worker`, the worker containers' health check.

Doctor reads; it changes nothing. A FAIL makes it exit 1, a WARN does not.
"""
from __future__ import annotations

import socket

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Worker

from bot.config import Settings
from bot.connections import ServiceUnreachable, check_mongo, check_redis, describe_mongo, describe_redis, redis_client
from bot.nlu.model_check import check_model
from bot.store import connect


class Report:
    def __init__(self):
        self.failed = False

    def line(self, status: str, what: str) -> None:
        self.failed = self.failed or status == "FAIL"
        print(f"{status:4}  {what}", flush=True)


def doctor(settings: Settings) -> int:
    report = Report()
    if settings.embedded:
        report.line("WARN", "embedded default (fakeredis + mongomock in this process): for trying it, not for a shop")
    else:
        _redis(settings, report)
        _mongo(settings, report)
    _web(settings, report)
    _model(settings, report)
    return 1 if report.failed else 0


def _model(settings: Settings, report: Report) -> None:
    """The Gemini key and model, with one cheap call (offline when no key is set)."""
    if not settings.GEMINI_API_KEY:
        report.line("OK", "gemini: not configured (GEMINI_API_KEY is unset): every message is read offline")
        return
    result = check_model(settings)
    report.line("OK" if result.ok else "FAIL", f"gemini: {result.said}")
    if result.warning:
        report.line("WARN", f"gemini: {result.warning}")


def _redis(settings: Settings, report: Report) -> None:
    client = redis_client(settings)
    try:
        check_redis(settings, client)
    except ServiceUnreachable as exc:
        report.line("FAIL", str(exc))
        return
    info = client.info("replication")
    replicas = int(info.get("connected_slaves", 0))
    report.line("OK", f"{describe_redis(settings)}: role {info.get('role')}, {replicas} replica(s) connected")
    if settings.REDIS_SENTINELS:
        _sentinels(settings, report)
    want = settings.REDIS_WAIT_REPLICAS or 0
    if want > replicas:
        report.line("WARN", f"REDIS_WAIT_REPLICAS={want} but {replicas} replica(s) are connected: every accepted "
                            f"message waits REDIS_WAIT_TIMEOUT_MS={settings.REDIS_WAIT_TIMEOUT_MS} and may not survive "
                            "losing the primary")
    elif want == 0:
        report.line("WARN", "REDIS_WAIT_REPLICAS=0: a message answered 200 can be lost with the Redis primary "
                            "(see README, 'What Redis persistence buys')")
    else:
        report.line("OK", f"accepting a message waits for {want} replica(s), "
                          f"at most {settings.REDIS_WAIT_TIMEOUT_MS} ms")
    try:
        aof = client.config_get("append*")
    except Exception:  # CONFIG may be renamed or refused on a managed Redis
        report.line("WARN", "could not read the primary's persistence settings (CONFIG GET refused)")
        return
    if aof.get("appendonly") != "yes":
        report.line("WARN", "the Redis primary has appendonly no: a restart loses everything since the last snapshot")
    else:
        report.line("OK", f"the Redis primary writes an append-only file (appendfsync {aof.get('appendfsync')})")


def _sentinels(settings: Settings, report: Report) -> None:
    answers, masters = 0, set()
    for host, port in settings.sentinel_addresses:
        try:
            sentinel = redis.Redis(host=host, port=port, password=settings.REDIS_SENTINEL_PASSWORD,
                                   socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
            master = sentinel.sentinel_get_master_addr_by_name(settings.REDIS_SENTINEL_MASTER)
            masters.add(tuple(master) if isinstance(master, (tuple, list)) else ())
            answers += 1
        except redis.RedisError as exc:
            report.line("WARN", f"sentinel {host}:{port} did not answer ({type(exc).__name__})")
    total = len(settings.sentinel_addresses)
    status = "OK" if answers == total and total >= 3 and len(masters) == 1 else "WARN"
    agree = "agree on the primary" if len(masters) == 1 else f"disagree: {sorted(masters)}"
    note = "" if total >= 3 else " (three sentinels on separate machines are the usual minimum)"
    report.line(status, f"{answers} of {total} sentinel(s) answered and {agree}{note}")


def _mongo(settings: Settings, report: Report) -> None:
    store = connect(settings)
    try:
        check_mongo(settings, store)
    except ServiceUnreachable as exc:
        report.line("FAIL", str(exc))
        return
    hello = store.db.command("hello")
    if hello.get("setName"):
        members = len(hello.get("hosts", [])) + len(hello.get("arbiters", []))
        report.line("OK", f"{describe_mongo(settings)}: replica set {hello['setName']}, {members} member(s), "
                          f"primary {hello.get('primary')}")
    else:
        report.line("WARN", f"{describe_mongo(settings)} is a standalone server, not a replica set: no failover, "
                            "and a crash between backups loses orders")


def _web(settings: Settings, report: Report) -> None:
    channels = [name for name, on in (("Telegram", settings.TELEGRAM_BOT_TOKEN),
                                      ("Twilio", settings.TWILIO_ACCOUNT_SID)) if on]
    url = settings.PUBLIC_BASE_URL
    if channels and not (url or "").startswith("https://"):
        report.line("FAIL", f"{' and '.join(channels)} need PUBLIC_BASE_URL to be an https:// URL, got {url!r}")
    elif channels:
        report.line("OK", f"{' and '.join(channels)} configured; webhooks under {url}/webhooks/")
    else:
        report.line("WARN", "no channel configured (TELEGRAM_BOT_TOKEN, TWILIO_ACCOUNT_SID): only /api/chat works")
    if not settings.embedded and not settings.METRICS_TOKEN:
        report.line("WARN", "METRICS_TOKEN is unset: /metrics answers anyone who can reach the web app")


def worker_health(settings: Settings) -> int:
    """0 if an RQ worker on this host is registered (its heartbeat key is alive) on the current primary."""
    if settings.embedded:
        print("orderline: healthcheck needs REDIS_URL or REDIS_SENTINELS")
        return 2
    check_redis(settings, client := redis_client(settings))
    here = socket.gethostname()
    mine = [w.name for w in Worker.all(connection=client) if w.hostname == here]
    print(f"{len(mine)} worker(s) registered from {here}")
    return 0 if mine else 1
