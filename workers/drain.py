"""The inbound drain job: claim due mailboxes, run a lane per conversation, and keep claiming while
lanes are free.

One job serves many customers (amortising RQ's per-job cost); its lanes run side by side in the
process's lane pool (a slow model costs one lane, not the worker); a customer's messages are
handled by one lane at a time because claims and conversation locks are exclusive. A message that
keeps failing is retried for a while (transient failures: the retry window) and then parked,
never blocking the customer's later messages or anyone else's.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from bot.common import logs
from bot.common.errors import TransientError
from bot.pipeline import Claimed, InboundMessage, deadletters, keys, queues
from workers.lane import BUSY_RETRY_MS, Lane, Member, new_token
from workers.step import conversation_key

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.drain")

MAX_CLAIM = 16  # mailboxes per claim, at most (a share of what is due: see LeasedQueues.claim)
PER_IDENTITY = 10  # messages read per mailbox per lane
FAILURES_TTL = 86400
IDLE_CLAIM_SECONDS = 0.05  # while lanes run and nothing was due, look again this often
MAX_BUG_ATTEMPTS = 3  # an exception that is a bug will not fix itself: park soon


class Drainer:
    """Built once per worker process: the step, the lane pool, the heartbeat and the group commit."""

    def __init__(self, rt: Runtime, step: Any, pool: Any, heartbeat: Any, flusher: Any, delivery: Any = None):
        self.rt, self.step, self.pool, self.heartbeat, self.flusher = rt, step, pool, heartbeat, flusher
        self.delivery = delivery
        s = rt.settings
        self.step_budget = s.STEP_BUDGET_SECONDS
        self.lane_budget = min(5.0, s.CLAIM_LEASE_SECONDS / 3)
        self.retry_window = s.RETRY_WINDOW_SECONDS

    def run(self, budget_seconds: float = 10.0) -> int:
        """Claim and run lanes until the budget is spent or nothing is due; wait for our lanes.

        While lanes run, room freed by a finished lane is filled at once if the last claim found
        work, else at most every IDLE_CLAIM_SECONDS: new messages also queue a job of their own."""
        self.rt.redis.delete(keys.KICK_MESSAGES)  # from here on, a new message may queue another job
        deadline = time.monotonic() + budget_seconds
        running: dict[Future, Lane] = {}
        processed, next_claim = 0, 0.0
        while time.monotonic() < deadline:
            free, now = self.pool.free(), time.monotonic()
            if free > 0 and now >= next_claim:
                if self._start_lanes(min(free, MAX_CLAIM), running):
                    continue
                if not _live(running):
                    break
                next_claim = now + IDLE_CLAIM_SECONDS
            processed += _collect(running, max(0.0, next_claim - now) if free > 0 else 0.25)
        end = time.monotonic() + self.step_budget + 5
        while _live(running) and time.monotonic() < end:
            processed += _collect(running, 0.25)
        if self.rt.mailboxes.due_count():
            queues.kick_messages(self.rt.redis)  # out of time with work left: hand over to a fresh job
        return processed

    def _start_lanes(self, room: int, running: dict[Future, Lane]) -> int:
        token = new_token()
        claimed, due = self.rt.mailboxes.claim(token, room)
        if not claimed:
            return 0
        if due > len(claimed):
            queues.kick_messages(self.rt.redis)  # more is due: let an idle worker join in
        for lane in self.lanes(claimed, token):
            running[self.pool.submit(lane.run)] = lane
        return len(claimed)

    def lanes(self, claimed: list[Claimed], token: str) -> list[Lane]:
        """Read the claimed mailboxes, group them by conversation, and open a lane per conversation
        (lock and state in one round trip); a conversation busy elsewhere is retried shortly."""
        mailboxes = self.rt.mailboxes
        heads, links = mailboxes.read([c.tag for c in claimed], PER_IDENTITY)
        groups: dict[str, list[Member]] = {}
        undecodable, empty = [], []
        for c in claimed:
            queued = []
            for raw in heads[c.tag]:
                try:
                    queued.append((raw, InboundMessage.from_dict(json.loads(raw))))
                except (ValueError, TypeError, KeyError):
                    if not queued:
                        undecodable.append((c.tag, raw))
                    break  # read the rest after the bad head is parked
            if not queued:
                empty.append(c.tag)
                continue
            first = queued[0][1]
            key = conversation_key(first, links[c.tag])
            groups.setdefault(key, []).append(Member(c.tag, queued, links[c.tag], c.crashes))
        self._set_aside(token, undecodable, empty)
        order = list(groups)
        tokens = [new_token() for _ in order]
        opened = mailboxes.open([(k, t, sum(len(m.queued) for m in groups[k]))
                                 for k, t in zip(order, tokens, strict=True)])
        lanes, busy = [], []
        for key, lock_token, o in zip(order, tokens, opened, strict=True):  # one answer per conversation
            if o.locked:
                lanes.append(Lane(self, key, groups[key], token, o, lock_token))
            else:
                busy += [m.tag for m in groups[key]]
        if busy:
            with self.rt.redis.pipeline(transaction=False) as pipe:
                for tag in busy:
                    mailboxes.release_into(pipe, tag, token, BUSY_RETRY_MS)
                pipe.execute()
        return lanes

    def _set_aside(self, token: str, undecodable: list[tuple[str, str]], empty: list[str]) -> None:
        """Park heads nobody can read (they would wedge their mailbox); release emptied mailboxes."""
        if not undecodable and not empty:
            return
        mailboxes = self.rt.mailboxes
        with self.rt.redis.pipeline(transaction=False) as pipe:
            for tag, raw in undecodable:
                log.error("parking an unreadable mailbox entry")
                parked = deadletters.undecodable(raw, "inbound", tag, "not a message")
                mailboxes.park_into(pipe, tag, token, raw, parked, counter="dead_letters:undecodable")
            for tag in [t for t, _ in undecodable] + empty:
                mailboxes.release_into(pipe, tag, token, 0)
            pipe.execute()

    def failed(self, msg: InboundMessage, exc: BaseException, transient: bool) -> tuple[str | None, int]:
        """A message failed: (None, delay) to retry it after `delay` ms, or (reason, 0) to park it.
        Transient failures are retried for RETRY_WINDOW_SECONDS; a bug, MAX_BUG_ATTEMPTS times."""
        with logs.about(msg.message_id):
            key = keys.failures(msg.channel, msg.message_id)
            with self.rt.redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(key, "count", 1)
                pipe.hsetnx(key, "first", repr(time.time()))
                pipe.hget(key, "first")
                pipe.expire(key, FAILURES_TTL)
                count, _, first, _ = pipe.execute()
            count, waited = int(count), time.time() - float(first)
            reason = f"{type(exc).__name__}: {exc}"[:300]
            if (transient and waited < self.retry_window) or (not transient and count < MAX_BUG_ATTEMPTS):
                delay = min(30_000, 500 * 2 ** min(count - 1, 10))
                log.warning("retrying in %d ms (attempt %d): %s", delay, count, reason)
                return None, delay
            return f"{reason} (after {count} attempts over {waited:.0f} s)", 0


def _live(running: dict[Future, Lane]) -> list[Future]:
    """Lanes still to wait for: a lane whose step the heartbeat parked is never waited for again."""
    return [f for f, lane in running.items() if not lane.abandoned]


def _collect(running: dict[Future, Lane], timeout: float) -> int:
    """Wait up to `timeout` for a lane to finish; forget finished (and abandoned) lanes."""
    live = _live(running)
    if live:
        wait(live, timeout=timeout, return_when=FIRST_COMPLETED)
    elif timeout:
        time.sleep(timeout)
    processed = 0
    for f, lane in list(running.items()):
        if f.done():
            del running[f]
            try:
                processed += f.result().processed
            except Exception:  # a lane's own failure (Redis away): its leases run out, the work is redone
                log.exception("a lane failed")
        elif lane.abandoned:
            del running[f]
    return processed


__all__ = ["Drainer", "TransientError"]
