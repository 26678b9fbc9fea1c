"""A lane: one conversation's waiting messages, from every identity that shares it, processed one
after another on one in-memory conversation, and committed as they are done.

Why one lane per conversation rather than per mailbox: the SMS and the WhatsApp of one phone (or
a Telegram chat and an integrator's user linked to it) are one conversation; each message must
start from the state the previous one saved, or a "yes" on each places two orders.

A lane holds its mailboxes' claims and the conversation's lock; the worker's heartbeat renews
them while it works and parks a step that outlives its budget. Messages are committed in small
groups (workers/flush.py): at once when a step was slow or the lane is careful after a crash,
together when steps are fast, so a slow model never holds back a reply that is ready.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.common import logs
from bot.common.errors import TransientError
from bot.common.phones import mask
from bot.pipeline import Commit, Hold, InboundMessage, Opened, deadletters, keys
from workers.apology import apology_for
from workers.flush import Flush
from workers.step import Processed, conversation_key, parse_conversation

log = logging.getLogger("orderline.drain")

BUSY_RETRY_MS = 200  # the conversation is locked by another lane: try again soon
FLUSH_AFTER = 0.05  # seconds of unflushed work after which a lane commits what it has
TRANSIENT = (TransientError, RedisConnectionError, RedisTimeoutError)


@dataclass
class Member:
    """One mailbox in a lane: its identity, what was read of it, and how it ends."""

    tag: str
    queued: list[tuple[str, InboundMessage]]
    link: str | None
    crashes: int
    retry_ms: int = 0
    stopped: bool = False
    processed: int = 0

    @property
    def identity(self) -> str:
        return self.queued[0][1].identity if self.queued else ""


@dataclass
class LaneResult:
    processed: int = 0
    parked: int = 0
    to_send: dict[str, str] = field(default_factory=dict)  # outboxes the lane's commits claimed: tag -> head


class Lane:
    def __init__(self, drainer, conv_key: str, members: list[Member], claim_token: str, opened: Opened,
                 lock_token: str):
        self.d, self.rt, self.step = drainer, drainer.rt, drainer.step
        self.conv_key, self.members, self.claim_token = conv_key, members, claim_token
        self.opened, self.lock_token = opened, lock_token
        self.result = LaneResult()
        self.extra_locks: list[str] = []
        self.hold: Hold | None = None

    @property
    def abandoned(self) -> bool:
        """The heartbeat parked this lane's step (it overran its budget): nobody waits for it now."""
        return self.hold is not None and self.hold.abandoned.is_set()

    @property
    def held(self) -> Hold:
        """The heartbeat's hold on this lane's leases and lock (taken when the lane runs)."""
        assert self.hold is not None, "the lane is not running"
        return self.hold

    # -- the lane's life ---------------------------------------------------------------------------
    def run(self) -> LaneResult:
        d = self.d
        k = [(keys.tagged(m.tag).claim, self.claim_token) for m in self.members]
        self.hold = d.heartbeat.hold(k, [(keys.conversation(self.conv_key).lock, self.lock_token)],
                                     d.step_budget, on_overrun=self._overrun)
        try:
            self._work()
        finally:
            d.heartbeat.drop(self.hold)
        if self.result.to_send and d.delivery is not None and not self.held.abandoned.is_set():
            try:  # straight to the channel: no queue hop between a committed reply and its send
                d.delivery.send_claimed(self.result.to_send, self.lock_token)
            except Exception:  # Redis away, a sender bug: the delivery job and its retries take over
                log.exception("sending right after the commit failed")
        return self.result

    def _work(self) -> None:
        pending: list[Processed] = []
        parks: list[tuple[Member, str, deadletters.Parked]] = []
        conv = parse_conversation(self.conv_key, self.opened.state)
        rate = self.opened.rate - sum(len(m.queued) for m in self.members)
        for m in self.members:
            if m.crashes >= 2 and m.queued:  # it killed or froze a worker twice: not a third time
                raw, msg = m.queued.pop(0)
                parks.append((m, raw, deadletters.inbound(raw, f"its processing crashed or hung {m.crashes} times")))
        careful = any(m.crashes for m in self.members)
        deadline = time.monotonic() + self.d.lane_budget
        unflushed_since = None
        stop = False
        for m, raw, msg in self._in_order():
            if stop or m.stopped:
                continue
            if time.monotonic() > deadline:
                break
            if conversation_key(msg, m.link) != self.conv_key:
                m.stopped = True  # it belongs to another conversation now: the next lane
                continue
            rate += 1
            started = time.monotonic()
            done = self._step(m, raw, msg, conv, rate, parks)
            if self.held.abandoned.is_set():
                return  # the heartbeat parked this step and let go of everything
            if done is None:
                continue
            if done.moved and not self._lock_target(done):
                m.retry_ms, m.stopped = BUSY_RETRY_MS, True
                break
            pending.append(done)
            conv = done.conv
            m.processed += 1
            unflushed_since = unflushed_since or started
            stop = done.moved
            if careful or time.monotonic() - unflushed_since >= FLUSH_AFTER:
                if not self._flush(pending, parks, final=False):
                    return self._let_go(retry_ms=1000)
                pending, parks, unflushed_since = [], [], None
        if not self._flush(pending, parks, final=True):
            self._let_go(retry_ms=1000)

    def _in_order(self):
        """Every member's messages, merged in arrival order (one conversation, one sequence)."""
        merged = [(msg.received_at, i, n, m, raw, msg) for i, m in enumerate(self.members)
                  for n, (raw, msg) in enumerate(m.queued)]
        merged.sort(key=lambda x: x[:3])
        for *_, m, raw, msg in merged:
            yield m, raw, msg

    def _step(self, m: Member, raw: str, msg: InboundMessage, conv, rate: int, parks) -> Processed | None:
        try:
            with logs.about(msg.message_id), self.held.step((m, raw)):
                return self.step.turn(raw, msg, conv, self.conv_key, rate)
        except Exception as exc:  # noqa: BLE001 - the lane decides: retry (transient) or park (a bug)
            m.stopped = True
            transient = isinstance(exc, TRANSIENT)
            if not transient:
                log.exception("processing failed identity=%s", mask(m.identity))
            reason, m.retry_ms = self.d.failed(msg, exc, transient)
            if reason is not None:
                parks.append((m, raw, deadletters.inbound(raw, reason)))
            return None

    def _lock_target(self, done: Processed) -> bool:
        """A message moved the conversation (verified, erased): the lane must hold the new key too."""
        if done.target_key == self.conv_key or done.target_key in self.extra_locks:
            return True
        if self.rt.mailboxes.lock(done.target_key, self.lock_token):
            self.extra_locks.append(done.target_key)
            self.held.locks.append((keys.conversation(done.target_key).lock, self.lock_token))
            return True
        return False

    # -- writing -----------------------------------------------------------------------------------
    def _commit_of(self, p: Processed, m: Member) -> Commit:
        return Commit(tag=m.tag, message_id=p.msg.message_id, claim_token=self.claim_token,
                      lock_token=self.lock_token, head=p.raw, conv_key=p.target_key, state_json=p.state_json,
                      state_ttl=self.step.state_ttl, lock_key=self.conv_key,
                      moved_from=self.conv_key if p.target_key != self.conv_key else None, routed=p.routed,
                      link_phone=p.link_phone, link_ttl=p.link_ttl, counters=p.counters)

    def _member_of(self, p: Processed) -> Member:
        return next(m for m in self.members if m.identity == p.msg.identity)

    def _flush(self, pending: list[Processed], parks, final: bool) -> bool:
        """Write history, then commit; on `final`, also unlock and release. False if a commit was
        refused (the lane lost its lease: stop; another worker redoes the rest)."""
        flush = Flush(processed=[(p, self._commit_of(p, self._member_of(p))) for p in pending],
                      parks=[(m.tag, self.claim_token, raw, parked, apology_for(parked)) for m, raw, parked in parks])
        if final:
            flush.unlocks = [(k, self.lock_token) for k in [self.conv_key, *self.extra_locks]]
            flush.releases = [(m.tag, self.claim_token, m.retry_ms) for m in self.members]
        try:
            statuses = self.d.flusher.submit(flush)
        except TRANSIENT as exc:  # the store or Redis is away: nothing committed, all of it redone later
            log.warning("could not commit (%s); the messages will be processed again", exc)
            return False
        codes = [int(s[0]) for s in statuses[:len(pending)]]
        for p, code, answer in zip(pending, codes, statuses, strict=False):  # statuses: parks' follow
            if code == 1:
                self.result.processed += 1
                first: dict[str, str] = {}
                for tag, raw in p.routed.outbound:
                    first.setdefault(tag, raw)
                for tag in answer[1:]:  # outboxes the commit claimed for this lane: their heads are ours
                    tag = tag.decode() if isinstance(tag, bytes) else tag
                    self.result.to_send.setdefault(tag, first[tag])
            else:
                log.warning("commit refused (%s) identity=%s", "head moved" if code == -1 else "lease lost",
                            mask(p.msg.identity))
        ok = all(code == 1 for code in codes)
        if not ok:
            self.rt.redis.hincrby(keys.STATS, "commits_refused", sum(1 for code in codes if code != 1))
        self.result.parked += len(parks)
        return ok

    def _let_go(self, retry_ms: int) -> None:
        """Let go of the claims and locks without committing anything more."""
        try:
            self.d.flusher.submit(Flush(unlocks=[(k, self.lock_token) for k in [self.conv_key, *self.extra_locks]],
                                        releases=[(m.tag, self.claim_token, retry_ms) for m in self.members]))
        except TRANSIENT:
            pass  # the leases run out on their own

    def _overrun(self, hold) -> None:
        """Called by the heartbeat: the current step outlived its budget. Park it (the customer is told),
        let go of everything, and leave the step to finish unheard in its thread."""
        m, raw = hold.step_of
        msg = json.loads(raw)
        log.error("step over its %.1f s budget: parking message=%s", self.d.step_budget, msg["message_id"])
        parked = deadletters.inbound(raw, f"processing took longer than {self.d.step_budget:g} s")
        for other in self.members:
            other.retry_ms = 0
        self.d.flusher.submit(Flush(
            parks=[(m.tag, self.claim_token, raw, parked, apology_for(parked))],
            unlocks=[(k, self.lock_token) for k in [self.conv_key, *self.extra_locks]],
            releases=[(x.tag, self.claim_token, 0) for x in self.members]))


_TOKEN_SALT = secrets.token_hex(6)
_tokens = itertools.count()


def new_token() -> str:
    """A lease token unique across processes and machines (the pid tells forked children apart);
    cheaper than a uuid4, which reads the OS's randomness each time."""
    return f"{_TOKEN_SALT}.{os.getpid()}.{next(_tokens)}"
