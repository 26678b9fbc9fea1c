"""Mailboxes: accepted messages wait here, per sender, in arrival order, until a worker commits them.

Why not one RQ job per message: RQ's bookkeeping caps that near 250 jobs/s, and two jobs of one
customer could run at once. Each sender identity has a leased queue (bot/pipeline/leases.py); a
worker claims a share of the due ones, opens a *lane* per conversation (locking it, reading its
state), and commits each message (pop it, save state, write replies) in one Lua call that checks
the claim, the lock and the head. A worker that dies leaves the message at the head; its lease
runs out and another worker processes it again (counting a crash against it).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from bot.pipeline import keys, notices
from bot.pipeline.deadletters import Parked
from bot.pipeline.leases import Claimed, LeasedQueues, identity_keys, now_ms
from bot.pipeline.outbox import REPLY_TTL, Routed
from bot.pipeline.scripts import Scripts

RATE_TTL = 120  # seconds a per-minute rate counter is kept


@dataclass
class Commit:
    """Everything a processed message changes in Redis, applied at once or not at all."""

    tag: str  # the sender identity's tag (its mailbox)
    message_id: str  # the message committed (names its reply slot, if a caller waits)
    claim_token: str
    lock_token: str
    head: str  # the raw mailbox entry processed; the commit refuses if it is no longer first
    conv_key: str  # where the conversation is saved
    state_json: str  # '' deletes the conversation
    state_ttl: int
    lock_key: str  # the conversation the lane locked
    moved_from: str | None = None  # the lane's conversation, when this message moved it to `conv_key`
    routed: Routed = field(default_factory=Routed)
    link_phone: str = ""  # '' leaves the identity's link alone; '-' removes it
    link_ttl: int = 365 * 86400
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Opened:
    """A lane's start: the conversation locked for it, its state, this minute's message count."""

    locked: bool
    state: bytes | str | None = None
    rate: int = 0


class Mailboxes:
    """The inbound protocol on one Redis client."""

    def __init__(self, redis: Redis, scripts: Scripts, lease_ms: int = 30_000):
        self.redis, self.scripts = redis, scripts
        self.queues = LeasedQueues(redis, scripts, keys.READY, identity_keys, lease_ms)

    @property
    def lease_ms(self) -> int:
        return self.queues.lease_ms

    def claim(self, token: str, limit: int, share: int = 2) -> tuple[list[Claimed], int]:
        return self.queues.claim(token, limit, share)

    def read(self, tags: list[str], count: int) -> tuple[dict[str, list[str]], dict[str, str | None]]:
        """Each mailbox's first `count` messages and each identity's link, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                k = keys.tagged(tag)
                pipe.lrange(k.mailbox, 0, count - 1)
                pipe.get(k.link)
            got = pipe.execute()
        heads = {t: [_text(h) for h in got[2 * i]] for i, t in enumerate(tags)}
        links = {t: (_text(got[2 * i + 1]) if got[2 * i + 1] else None) for i, t in enumerate(tags)}
        return heads, links

    def open(self, lanes: list[tuple[str, str, int]]) -> list[Opened]:
        """Lock each (conversation key, lane token, messages) and read its state, one round trip."""
        minute = int(time.time() // 60)
        with self.redis.pipeline(transaction=False) as pipe:
            for conv_key, token, count in lanes:
                k = keys.conversation(conv_key)
                self.scripts.open(keys=[k.lock, k.state, k.rate(minute)], args=[token, self.lease_ms, count, RATE_TTL],
                                  client=pipe)
            got = pipe.execute()
        return [Opened(True, g[1] or None, int(g[2])) if int(g[0]) else Opened(False) for g in got]

    def unlink(self, identity: str) -> None:
        """Forget the phone this identity proved (a phone call's, once the call ends)."""
        self.redis.delete(keys.identity(identity).link)

    def lock(self, conv_key: str, token: str) -> bool:
        return bool(self.redis.set(keys.conversation(conv_key).lock, token, nx=True, px=self.lease_ms))

    def unlock(self, conv_key: str, token: str) -> None:
        self.scripts.unlock(keys=[keys.conversation(conv_key).lock], args=[token])

    def unlock_into(self, pipe: Any, conv_key: str, token: str) -> None:
        self.scripts.unlock(keys=[keys.conversation(conv_key).lock], args=[token], client=pipe)

    def commit_into(self, pipe: Any, c: Commit) -> None:
        """Queue one commit on `pipe` (its answer comes first: [1, outbox tags it claimed for the lane]
        committed, [0] claim or lock lost, [-1] head moved), then the notices it leaves for a
        synchronous identity."""
        k, conv = keys.tagged(c.tag), keys.conversation(c.conv_key)
        moved_from = c.moved_from if c.moved_from and c.moved_from != c.conv_key else None
        routed = c.routed
        out_keys = [keys.tagged(tag).outbox for tag, _ in routed.outbound] + \
            [keys.tagged(tag).outclaim for tag, _ in routed.outbound]
        out_args = [x for pair in routed.outbound for x in pair]
        message_id = c.message_id if routed.slot else ""
        counters = [x for name, n in c.counters.items() for x in (name, n)]
        self.scripts.commit(
            client=pipe,
            keys=[k.claim, k.mailbox, conv.state, keys.conversation(moved_from).state if moved_from else "",
                  keys.conversation(c.lock_key).lock, conv.lock if moved_from else "", keys.STATS, keys.OUT_READY,
                  keys.reply(message_id) if message_id else "", keys.reply_ready(message_id) if message_id else "",
                  k.link if c.link_phone else "", *out_keys],
            args=[c.claim_token, c.lock_token, c.head, c.state_json, c.state_ttl, routed.slot, REPLY_TTL,
                  c.link_phone, c.link_ttl, now_ms(), self.lease_ms, len(routed.outbound), *out_args, *counters],
        )
        if routed.notices:
            notices.add(pipe, routed.notices_for, routed.notices, phone=routed.notices_phone or None)

    def park_into(self, pipe: Any, tag: str, token: str, head: str, parked: Parked,
                  apology: tuple[str, str, str] | None = None, counter: str = "dead_letters:inbound") -> None:
        """Park the head, telling the customer once. `apology`: (kind 'outbox'|'slot', payload, target)
        where target is the recipient's tag (outbox) or the message id (slot); None says nothing."""
        k = keys.tagged(tag)
        kind, payload, target = apology or ("", "", "")
        if kind == "outbox":
            where, ready, extra = keys.tagged(target).outbox, keys.OUT_READY, target
        elif kind == "slot":
            where, ready, extra = keys.reply(target), keys.reply_ready(target), str(REPLY_TTL)
        else:
            where, ready, extra = "", "", ""
        self.scripts.park(
            client=pipe, keys=[k.claim, k.mailbox, keys.DEAD, keys.DEAD_INDEX, keys.STATS, where, ready],
            args=[token, head, parked.id, parked.entry, time.time(), counter, kind, payload, extra, now_ms()])

    def release_into(self, pipe: Any, tag: str, token: str, retry_in_ms: int = 0) -> None:
        self.queues.release_into(pipe, tag, token, retry_in_ms)

    def holds(self, identity: str, message_id: str, scan: int = 500) -> bool:
        """Is this message still waiting (or being worked on) in its sender's mailbox? A message is
        popped by the same commit that writes its reply, so not held and no reply means the reply
        came and went."""
        for raw in self.redis.lrange(keys.identity(identity).mailbox, 0, scan - 1):
            try:
                if json.loads(raw).get("message_id") == message_id:
                    return True
            except (ValueError, AttributeError):
                continue
        return False

    def due_count(self) -> int:
        return self.queues.due_count()

    def pending_count(self) -> int:
        return self.queues.waiting_count()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
