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
too, can lose such messages.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("orderline.replication")

STATS = "ol:stats"  # the shared counters hash (bot.keys.STATS)
WAITS = "replica_waits"  # messages whose acceptance waited for replicas
SHORT = "replica_wait_timeouts"  # ... and found fewer replicas than asked for within the bound
LOG_EVERY = 30.0  # seconds between warnings about short waits, per process

_lock = threading.Lock()
_short_since_log = 0
_last_log = 0.0


def wait_for_replicas(redis, replicas: int, timeout_ms: int) -> int:
    """Block until `replicas` replicas hold every write made before this call (at most `timeout_ms`);
    returns how many acknowledged. `replicas` 0: returns 0 at once, no round trip.

    Raises redis' ConnectionError / TimeoutError if the primary is lost meanwhile."""
    if replicas <= 0:
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
        _short(redis, replicas, acked, timeout_ms)
    return acked


def _short(redis, replicas: int, acked: int, timeout_ms: int) -> None:
    """Count a wait that timed out; warn at most every LOG_EVERY seconds per process."""
    global _short_since_log, _last_log
    redis.hincrby(STATS, SHORT, 1)
    with _lock:
        _short_since_log += 1
        now = time.monotonic()
        if now - _last_log < LOG_EVERY:
            return
        count, _short_since_log, _last_log = _short_since_log, 0, now
    log.warning("%d accepted message(s) reached only %d of %d replica(s) within %d ms (REDIS_WAIT_REPLICAS, "
                "REDIS_WAIT_TIMEOUT_MS): is a replica down or lagging? Losing the primary now could lose them",
                count, acked, replicas, timeout_ms)
