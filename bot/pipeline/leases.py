"""Leased queues: the protocol inbound mailboxes and outboxes share.

A queue is a Redis list per identity; a ready set says whose list is due and when. A worker
*claims* a due queue (a hash {token, until} checked by every write), works on its head, and
*releases* it, due again after a delay if anything is left. A claim whose lease ran out without a
release counts a crash against the head it held, so a message that kills or freezes its worker is
parked after a second try instead of taking every worker down with it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from bot.pipeline import keys
from bot.pipeline.scripts import Scripts


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Claimed:
    tag: str
    crashes: int  # how many times a holder's lease ran out on the current head (0: never)
    head: str  # the queue's first entry when it was claimed


class LeasedQueues:
    """One family of leased queues: `ready` names the due set, `keys_of(tag)` a queue's (claim, list)."""

    def __init__(self, redis: Redis, scripts: Scripts, ready: str, keys_of: Callable[[str], tuple[str, str]],
                 lease_ms: int):
        self.redis, self.scripts, self.ready, self.keys_of = redis, scripts, ready, keys_of
        self.lease_ms = lease_ms

    def claim(self, token: str, limit: int, share: int = 2) -> tuple[list[Claimed], int]:
        """Lease up to `limit` due queues (a `share` of what is due, so a small backlog spreads over
        idle workers); returns them and how many were due before this claim."""
        now = now_ms()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcount(self.ready, "-inf", now)
            pipe.zrangebyscore(self.ready, "-inf", now, start=0, num=limit)
            due_count, due = pipe.execute()
        want = max(1, min(limit, int(due_count) // share))
        return self.claim_tags([_text(t) for t in due[:want]], token, now), int(due_count)

    def claim_tags(self, tags: list[str], token: str, now: int | None = None) -> list[Claimed]:
        """Lease these queues, those of them that are due and free."""
        if not tags:
            return []
        pairs = [self.keys_of(t) for t in tags]
        got = self.scripts.claim(keys=[self.ready, *(c for c, _ in pairs), *(q for _, q in pairs)],
                                 args=[now or now_ms(), self.lease_ms, token, *tags])
        return [Claimed(_text(got[i]), int(got[i + 1]), _text(got[i + 2])) for i in range(0, len(got), 3)]

    def release_into(self, pipe: Any, tag: str, token: str, retry_in_ms: int = 0) -> None:
        claim, queue = self.keys_of(tag)
        self.scripts.release(keys=[claim, queue, self.ready], args=[token, tag, now_ms(), retry_in_ms], client=pipe)

    def release(self, tag: str, token: str, retry_in_ms: int = 0) -> bool:
        claim, queue = self.keys_of(tag)
        return bool(self.scripts.release(keys=[claim, queue, self.ready], args=[token, tag, now_ms(), retry_in_ms]))

    def due_count(self) -> int:
        return int(self.redis.zcount(self.ready, "-inf", now_ms()))

    def waiting_count(self) -> int:
        """Queues holding something, due or not (a retry's delay, a held lease)."""
        return int(self.redis.zcard(self.ready))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def identity_keys(tag: str) -> tuple[str, str]:
    k = keys.tagged(tag)
    return k.claim, k.mailbox


def outbox_keys(tag: str) -> tuple[str, str]:
    k = keys.tagged(tag)
    return k.outclaim, k.outbox
