"""Notices for customers on synchronous channels (/api/chat, the console, voice).

Nothing can be pushed to them: what the shop says outside a reply (an order moved on, an
operator's words) waits here, per identity, until the integrator fetches it (GET /api/notices).
Entries are keyed by a stable id, so writing one twice (a retried turn) keeps one.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from . import keys

KEEP_SECONDS = 30 * 86400


def add(redis: Any, identity: str, items: Iterable[tuple[str, str, str]], now: float | None = None) -> None:
    """items: (notice id, text, kind) tuples. Pass a pipeline to make it part of a larger write."""
    items = list(items)
    if not items:
        return
    now = time.time() if now is None else now
    mapping = {nid: json.dumps({"id": nid, "text": text, "kind": kind, "at": now}) for nid, text, kind in items}
    key = keys.identity(identity).notices
    redis.hset(key, mapping=mapping)  # `redis` may be a caller's pipeline
    redis.expire(key, KEEP_SECONDS)


def peek(redis: Any, identity: str) -> list[dict]:
    return _sorted(redis.hgetall(keys.identity(identity).notices))


def take(redis: Any, identity: str) -> list[dict]:
    """Read and remove every waiting notice at once (oldest first)."""
    key = keys.identity(identity).notices
    with redis.pipeline() as pipe:  # MULTI/EXEC: nobody sees a notice twice
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = pipe.execute()
    return _sorted(raw)


def forget(redis: Any, identities: Iterable[str]) -> None:
    names = [keys.identity(i).notices for i in identities]
    if names:
        redis.delete(*names)


def _sorted(raw: dict) -> list[dict]:
    return sorted((json.loads(v) for v in raw.values()), key=lambda n: (n["at"], n["id"]))
