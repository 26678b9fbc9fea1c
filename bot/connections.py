"""Connections to the real Redis (one server, or the primary that Sentinel names) and MongoDB, and
the one line that says which of them did not answer at start, naming its setting and host.

Every Redis client of a production process is built by `redis_client`: the web tier, the workers
(RQ included: it is handed the same client) and the CLI. Behind Sentinel the client asks the
sentinels for the primary whenever it opens a connection, and a connection to a demoted or dead
primary fails and is replaced, so a failover needs no restart.
"""
from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import redis
from pymongo.errors import OperationFailure, PyMongoError
from redis import Redis
from redis.backoff import EqualJitterBackoff, NoBackoff
from redis.connection import SSLConnection, parse_url
from redis.exceptions import AuthenticationError, RedisError
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelManagedConnection
from redis.utils import SENTINEL

from bot.common.errors import StoreUnavailable
from bot.config import Settings
from bot.store import Store, connect

# A dead server must not hold a request for long; a blocking read (RQ's BLMOVE) may wait 30 s.
CLIENT_OPTIONS = dict(socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
# Ask the next sentinel at once when one does not answer (redis-py would retry it for seconds).
SENTINEL_OPTIONS = dict(socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))


_retrying = threading.local()  # the deadline of the retry loop this thread is inside, if any


class FailoverRetry(Retry):
    """redis-py's Retry bounded by time rather than by count: a lost connection is retried for
    `seconds` (a Sentinel failover: noticing the dead primary, then promoting a replica), then the
    error is raised. A connect retried inside a retried command keeps the command's deadline.

    Riding through a failover keeps work from failing half-done: a delivery job acknowledges what
    it sent on the new primary, and a webhook is answered 200 instead of 503 (Twilio does not
    retry a failed SMS webhook unless told to)."""

    def __init__(self, seconds: float):
        super().__init__(EqualJitterBackoff(cap=0.5, base=0.05), retries=1_000_000)  # the deadline stops it
        self.seconds = seconds

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        outer = getattr(_retrying, "deadline", None)
        deadline = _retrying.deadline = outer or time.monotonic() + self.seconds
        try:
            failures = 0
            while True:
                try:
                    return do()
                except self._supported_errors as error:
                    if is_retryable and not is_retryable(error):
                        raise
                    failures += 1
                    fail(error, failures) if with_failure_count else fail(error)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise
                    time.sleep(min(self._backoff.compute(failures), remaining))
        finally:
            _retrying.deadline = outer


class SentinelConnection(SentinelManagedConnection):
    """redis-py 8.1's SentinelManagedConnection reads with disconnect_on_error=False by default,
    unlike its base class: an exception raised inside a read (RQ's SIGTERM handler raising
    StopRequested in a blocking BLMOVE) put the connection back in the pool with that reply still to
    come, and the next command waited behind it: `python -m bot worker` ignored SIGTERM. This
    restores the base class's default (tests/integration/test_sentinel.py)."""

    def read_response(self, disable_decoding=False, *, timeout=SENTINEL, disconnect_on_error=True,
                      push_request=False):
        return super().read_response(disable_decoding, timeout=timeout, disconnect_on_error=disconnect_on_error,
                                     push_request=push_request)


class SentinelSSLConnection(SentinelConnection, SSLConnection):
    pass


class NewestSentinel(Sentinel):
    """Asks every sentinel and follows the newest configuration (the highest `config-epoch`).

    redis-py takes the first sentinel's answer. Right after a failover, a sentinel that has not yet
    heard of it still names the old primary; if that process has just been restarted (as a
    supervisor would), it answers as a primary until the sentinels demote it, about 15 s later, and
    whatever was written to it meanwhile is discarded. The failover test saw a reply sent again that
    way; the sentinel that led the failover carries the higher epoch."""

    def discover_master(self, service_name: str) -> tuple[str, int]:
        newest: tuple[int, tuple[str, int]] | None = None
        errors = []
        for sentinel in self.sentinels:
            try:
                masters: dict[str, dict[str, Any]] = sentinel.sentinel_masters()  # type: ignore[assignment]
                state = masters.get(service_name)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                errors.append(f"{sentinel} - {exc!r}")
                continue
            if state and self.check_master_state(state, service_name):
                epoch = int(state.get("config-epoch", 0))
                if newest is None or epoch > newest[0]:
                    newest = (epoch, (state["ip"], state["port"]))
        if newest is None:
            raise MasterNotFoundError(f"No master found for {service_name!r}: {', '.join(errors)}")
        return newest[1]


class ServiceUnreachable(Exception):
    """Redis or MongoDB did not answer at start; the message is one line naming setting and host."""


def redis_client(settings: Settings) -> redis.Redis:
    """A redis-py client for REDIS_URL, or for the primary named by REDIS_SENTINELS."""
    options: dict[str, Any] = dict(CLIENT_OPTIONS)
    if settings.REDIS_FAILOVER_SECONDS:
        options["retry"] = FailoverRetry(settings.REDIS_FAILOVER_SECONDS)
    if not settings.REDIS_SENTINELS:
        return redis.Redis.from_url(settings.REDIS_URL or "redis://localhost:6379/0", **options)

    sentinel_kwargs = dict(SENTINEL_OPTIONS)
    if settings.REDIS_SENTINEL_PASSWORD:
        sentinel_kwargs["password"] = settings.REDIS_SENTINEL_PASSWORD
    sentinel = NewestSentinel(settings.sentinel_addresses, sentinel_kwargs=sentinel_kwargs)
    node = node_options(settings.REDIS_URL)
    node["connection_class"] = SentinelSSLConnection if node.pop("ssl", False) else SentinelConnection
    return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **options, **node)


def node_options(url: str | None) -> dict:
    """What REDIS_URL says about the data nodes behind Sentinel: credentials, database, TLS.
    Its host and port are not used: the sentinels name the primary."""
    if not url:
        return {}

    options = parse_url(url)
    for key in ("host", "port", "path"):
        options.pop(key, None)
    if options.pop("connection_class", None) is SSLConnection:
        options["ssl"] = True
    return options


def describe_redis(settings: Settings) -> str:
    """Where Redis is, for an operator: hosts and the setting, never a password."""
    if settings.REDIS_SENTINELS:
        return (f"the Redis primary '{settings.REDIS_SENTINEL_MASTER}' via sentinels {settings.REDIS_SENTINELS} "
                "(REDIS_SENTINELS, REDIS_SENTINEL_MASTER)")
    parsed = urlparse(settings.REDIS_URL or "")
    return f"Redis at {parsed.hostname}:{parsed.port or 6379} (REDIS_URL)"


def describe_mongo(settings: Settings) -> str:
    hosts = urlparse(settings.MONGO_URI or "").netloc.rpartition("@")[2]
    return f"MongoDB at {hosts} (MONGO_URI)"


def _reason(exc: BaseException) -> str:
    """The first clause of a driver's error: pymongo appends whole topology descriptions."""
    text = str(exc)
    for tail in (" (configured timeouts", ", Timeout:", ", full error:", " : <"):
        text = text.split(tail)[0]
    text = text.strip()
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def check_redis(settings: Settings, client=None) -> None:
    try:
        (client if client is not None else redis_client(settings)).ping()
    except AuthenticationError as exc:
        raise ServiceUnreachable(f"{describe_redis(settings)} refused the password in REDIS_URL"
                                 f"{' or REDIS_SENTINEL_PASSWORD' if settings.REDIS_SENTINELS else ''} "
                                 f"({type(exc).__name__})") from None
    except RedisError as exc:
        raise ServiceUnreachable(f"cannot reach {describe_redis(settings)}: {_reason(exc)}") from None


def check_mongo(settings: Settings, store: Store | None = None) -> None:
    try:
        (store if store is not None else connect(settings)).ping()
    except OperationFailure as exc:
        raise ServiceUnreachable(f"{describe_mongo(settings)} refused: {_reason(exc)}") from None
    except (PyMongoError, StoreUnavailable) as exc:
        cause = exc.__cause__ if isinstance(exc, StoreUnavailable) and exc.__cause__ else exc
        raise ServiceUnreachable(f"cannot reach {describe_mongo(settings)}: {_reason(cause)}") from None


def check_services(settings: Settings, redis: Redis | None = None, store: Store | None = None) -> None:
    """Raise ServiceUnreachable for the first of Redis, MongoDB that does not answer (production only)."""
    if settings.embedded:
        return
    check_redis(settings, redis)
    check_mongo(settings, store)
