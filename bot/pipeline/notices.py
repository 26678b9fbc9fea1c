"""Notices for customers on synchronous channels (/api/chat, the console, voice).

Nothing can be pushed to them: what the shop says outside a reply (an order moved on, an
operator's words) waits here, per identity, until the integrator fetches it (GET /api/notices).
Entries are keyed by a stable id, so writing one twice (a retried turn) keeps one.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from redis import Redis

from bot.pipeline import keys

KEEP_SECONDS = 30 * 86400


def add(redis: Redis, identity: str, items: Iterable[tuple[str, str, str]], now: float | None = None,
        phone: str | None = None) -> None:
    """items: (notice id, text, kind) tuples. Pass a pipeline to make it part of a larger write.
    `phone`: the customer the notices are about (an integrator's identity may serve many phones:
    erasing one customer takes only theirs)."""
    items = list(items)
    if not items:
        return
    now = time.time() if now is None else now
    mapping: dict[Any, Any] = {nid: json.dumps({"id": nid, "text": text, "kind": kind, "at": now, "phone": phone})
               for nid, text, kind in items}
    key = keys.identity(identity).notices
    redis.hset(key, mapping=mapping)  # `redis` may be a caller's pipeline
    redis.expire(key, KEEP_SECONDS)


def peek(redis: Redis, identity: str) -> list[dict]:
    return _sorted(redis.hgetall(keys.identity(identity).notices))


def take(redis: Redis, identity: str) -> list[dict]:
    """Read and remove every waiting notice at once (oldest first)."""
    key = keys.identity(identity).notices
    with redis.pipeline() as pipe:  # MULTI/EXEC: nobody sees a notice twice
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = pipe.execute()
    return _sorted(raw)


def forget(redis: Redis, identities: Iterable[str]) -> None:
    names = [keys.identity(i).notices for i in identities]
    if names:
        redis.delete(*names)


def about(redis: Redis, identity: str, phone: str) -> list[dict]:
    """The identity's waiting notices about this customer."""
    return [n for n in peek(redis, identity) if n.get("phone") == phone]


def forget_about(redis: Redis, identities: Iterable[str], phone: str) -> int:
    """Remove the notices about this customer from identities shared with others."""
    gone = 0
    for identity in identities:
        ids = [n["id"] for n in about(redis, identity, phone)]
        if ids:
            gone += int(redis.hdel(keys.identity(identity).notices, *ids))
    return gone


def _sorted(raw: dict) -> list[dict]:
    return sorted((json.loads(v) for v in raw.values()), key=lambda n: (n["at"], n["id"]))
