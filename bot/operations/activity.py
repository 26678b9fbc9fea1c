"""What happened when: per-minute and per-hour counters for the dashboard's charts, the set of
active conversations, and the latency histogram's buckets.

The charts and the active set are written right after a turn commits (one pipeline); a process
that dies between the two leaves a chart one message short, never a total wrong: totals live in
the `ol:stats` hash, written inside the commit itself.
"""
from __future__ import annotations

import time
from typing import Any

from redis import Redis

from bot.common import redis_keys

MINUTE_TTL = 3 * 3600  # the dashboard draws the last hour by minute
HOUR_TTL = 8 * 86400  # ... and the last day (or week) by hour
# Upper bounds (ms) of the processing-latency histogram; the last bucket is everything slower.
LATENCY_BUCKETS_MS = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
INF = "+Inf"


def latency_bucket(ms: float) -> str:
    for bound in LATENCY_BUCKETS_MS:
        if ms <= bound:
            return str(bound)
    return INF


def latency_counters(channel: str, ms: float) -> dict[str, int]:
    """The `ol:stats` fields one turn adds to its channel's histogram (bucket count and sum)."""
    return {f"latency_ms:{channel}:{latency_bucket(ms)}": 1, f"latency_ms_sum:{channel}": int(round(ms))}


def record_turn(redis: Redis, *, channel: str, active_key: str | None, stale_keys=(), inbound: int, outbound: int,
                orders: int = 0, revenue_cents: int = 0, now: float | None = None) -> None:
    """After a committed turn: bump this minute's and hour's buckets; mark the conversation active
    (`active_key`, None after an erasure) and drop keys it no longer lives under (`stale_keys`)."""
    with redis.pipeline(transaction=False) as pipe:
        record_turn_into(pipe, channel=channel, active_key=active_key, stale_keys=stale_keys, inbound=inbound,
                         outbound=outbound, orders=orders, revenue_cents=revenue_cents, now=now)
        pipe.execute()


def record_turn_into(pipe, *, channel: str, active_key: str | None, stale_keys=(), inbound: int, outbound: int,
                     orders: int = 0, revenue_cents: int = 0, now: float | None = None) -> None:
    """`record_turn`'s writes, queued on a pipeline the caller executes (a batch of turns at once)."""
    now = time.time() if now is None else now
    fields = {f"in:{channel}": inbound, f"out:{channel}": outbound, "orders": orders, "revenue_cents": revenue_cents}
    for granularity, size, ttl in (("m", 60, MINUTE_TTL), ("h", 3600, HOUR_TTL)):
        key = redis_keys.series(granularity, int(now // size))
        for name, amount in fields.items():
            if amount:
                pipe.hincrby(key, name, amount)
        pipe.expire(key, ttl)
    stale = [k for k in stale_keys if k and k != active_key]
    if stale:
        pipe.zrem(redis_keys.ACTIVE, *stale)
    if active_key:
        pipe.zadd(redis_keys.ACTIVE, {active_key: now})


def active_conversations(redis: Redis, idle_seconds: float, now: float | None = None) -> int:
    """Conversations with a turn within the idle timeout; older entries are dropped on the way."""
    now = time.time() if now is None else now
    redis.zremrangebyscore(redis_keys.ACTIVE, "-inf", now - idle_seconds)
    return int(redis.zcard(redis_keys.ACTIVE))


def forget_conversations(redis: Redis, conv_keys) -> None:
    conv_keys = list(conv_keys)
    if conv_keys:
        redis.zrem(redis_keys.ACTIVE, *conv_keys)


def series(redis: Redis, granularity: str = "m", count: int = 60, now: float | None = None) -> list[dict]:
    """The last `count` buckets, oldest first: [{"t": bucket start (s), "in": {ch: n}, "out": ..., "orders", ...}]."""
    now = time.time() if now is None else now
    size = 60 if granularity == "m" else 3600
    last = int(now // size)
    buckets = list(range(last - count + 1, last + 1))
    with redis.pipeline(transaction=False) as pipe:
        for b in buckets:
            pipe.hgetall(redis_keys.series(granularity, b))
        raw = pipe.execute()
    out = []
    for b, fields in zip(buckets, raw, strict=True):
        point: dict[str, Any] = {"t": b * size, "in": {}, "out": {}, "orders": 0, "revenue_cents": 0}
        for name, value in fields.items():
            name = name.decode() if isinstance(name, bytes) else name
            kind, _, channel = name.partition(":")
            if channel and kind in ("in", "out"):
                point[kind][channel] = int(value)
            elif name in ("orders", "revenue_cents"):
                point[name] = int(value)
        out.append(point)
    return out
