"""Waiting for replicas: a message answered 200 must survive losing the Redis primary.

Redis replicates asynchronously. Without a wait, a primary that dies a millisecond after accepting
a message takes it along, and Telegram or Twilio, answered 200, never send it again. `WAIT n t`
blocks until n replicas hold everything written before it, or t ms pass, and says how many did.

WAIT covers the writes made *on its own connection*, and the accept ran on whichever pooled
connection was free. So the wait is a pipeline of a small write (the counter below) and WAIT, sent
on one connection: the counter lands after the accept in Redis's single replication stream, so a
replica that has it has the accept too. (Without that write, a connection that last wrote before
the accept gets WAIT's answer at once: tests/integration/test_replication.py shows it.)

It is sent on a raw connection, without redis-py's retries: a retry after a lost connection could
reach the *new* primary after a failover and vouch for writes made on the old one. A lost
connection raises instead; the caller answers 503 and the channel's retry is deduplicated.

Past the bound the message stays accepted (it is on the primary) and is counted and logged: a
replica that is down for an hour must not stop the shop. Only losing the primary in that hour,
too, can lose such messages. Once a wait has run out (no replica, or one still resyncing after a
failover), a process stops waiting and only probes, one full wait every PROBE_EVERY seconds, so a
missing replica does not cost every message the whole bound; the first probe that succeeds ends
that.

The same wait guards the other door out of Redis, the send: a lane's group commit waits before its
replies go out, and a delivery waits before it sends from an outbox and after each reply it pops.
Without it, a reply sent from a commit the failover then lost is sent again when the message is
processed again, and a reply whose pop the failover lost is sent twice.
"""
from __future__ import annotations

import logging
import threading
import time

from redis import Redis

from bot.pipeline.keys import STATS

log = logging.getLogger("orderline.replication")

WAITS = "replica_waits"  # messages whose acceptance waited for replicas
SHORT = "replica_wait_timeouts"  # ... and found fewer replicas than asked for within the bound
LOG_EVERY = 30.0  # seconds between warnings about short waits, per process
PROBE_EVERY = 1.0  # seconds between full waits while replicas are missing, per process

_lock = threading.Lock()
_short_since_log = 0
_last_log = 0.0
_degraded = False  # a wait ran out and none has succeeded since
_next_probe = 0.0


def wait_for_replicas(redis: Redis, replicas: int, timeout_ms: int) -> int:
    """Block until `replicas` replicas hold every write made before this call (at most `timeout_ms`);
    returns how many acknowledged. `replicas` 0: returns 0 at once, no round trip. While replicas
    are missing (a wait ran out), returns 0 at once except for one probe every PROBE_EVERY seconds.

    Raises redis' ConnectionError / TimeoutError if the primary is lost meanwhile."""
    global _degraded, _next_probe
    if replicas <= 0:
        return 0
    if not _may_wait():
        _short(redis, replicas, 0, timeout_ms)
        return 0
    pool = redis.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_packed_command(conn.pack_commands([("HINCRBY", STATS, WAITS, 1),
                                                     ("WAIT", replicas, timeout_ms)]))
        conn.read_response()
        acked = int(conn.read_response())
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    if acked < replicas:
        _next_probe = time.monotonic() + PROBE_EVERY
        _short(redis, replicas, acked, timeout_ms)
    _degraded = acked < replicas
    return acked


def _may_wait() -> bool:
    """Normally yes; while replicas are missing, once per PROBE_EVERY seconds (this process)."""
    global _next_probe
    if not _degraded:
        return True
    with _lock:
        now = time.monotonic()
        if now < _next_probe:
            return False
        _next_probe = now + PROBE_EVERY
        return True


def _short(redis: Redis, replicas: int, acked: int, timeout_ms: int) -> None:
    """Count a wait that timed out; warn at most every LOG_EVERY seconds per process."""
    global _short_since_log, _last_log
    redis.hincrby(STATS, SHORT, 1)
    with _lock:
        _short_since_log += 1
        now = time.monotonic()
        if now - _last_log < LOG_EVERY:
            return
        count, _short_since_log, _last_log = _short_since_log, 0, now
    log.warning("%d write(s) reached only %d of %d replica(s) within %d ms (REDIS_WAIT_REPLICAS, "
                "REDIS_WAIT_TIMEOUT_MS): is a replica down or lagging? Losing the primary now could lose them; "
                "until a replica answers, one wait every %.0f s", count, acked, replicas, timeout_ms, PROBE_EVERY)


class Replicas:
    """The wait this deployment asks for (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS), on one client:
    a no-op, without a round trip, when it asks for none."""

    def __init__(self, redis: Redis, replicas: int = 0, timeout_ms: int = 0):
        self.redis, self.replicas, self.timeout_ms = redis, replicas, timeout_ms

    def wait(self) -> int:
        return wait_for_replicas(self.redis, self.replicas, self.timeout_ms) if self.replicas else 0
