"""The inbound drain job: claim due mailboxes, process their messages in batches, release them.

One job serves many customers (amortising RQ's per-job cost) and each batch many messages
(amortising round trips: workers/batch.py); a customer's messages are handled by one worker at a
time because the claim is exclusive. Failures are retried with backoff, and a message that keeps
failing is parked in the dead letters instead of blocking its mailbox.
"""
from __future__ import annotations

import json
import logging
import time
import uuid

from bot import keys, logs, queues

from . import context
from .apology import APOLOGY, apologise  # noqa: F401  (APOLOGY: the sentence tests look for)
from .batch import Batch, Failure

log = logging.getLogger("orderline.drain")

MAX_TRANSIENT_ATTEMPTS = 8  # store down for a while: keep retrying (backoff up to 30 s)
MAX_BUG_ATTEMPTS = 3  # an exception that is a bug will not fix itself: park soon
MAX_CLAIM = 16  # mailboxes per batch, at most (a share of what is due: see Mailboxes.claim)


def drain_messages(budget_seconds: float = 10.0) -> int:
    """RQ job: process due mailboxes for up to `budget_seconds`; returns messages processed."""
    return Drainer(context.runtime(), context.step()).run(budget_seconds)


class Drainer:
    def __init__(self, rt, step, per_identity: int = 10, max_claim: int = MAX_CLAIM):
        self.rt, self.step = rt, step
        self.batch = Batch(rt, step, per_identity)
        self.max_claim = max_claim

    def run(self, budget_seconds: float = 10.0) -> int:
        """Claim a share of what is due, batch by batch; while more is due, keep one more job queued
        so idle workers join in (the kick key bounds that to one waiting job)."""
        self.rt.redis.delete(keys.KICK_MESSAGES)  # from here on, a new message may queue another job
        token, processed = uuid.uuid4().hex, 0
        deadline = time.monotonic() + budget_seconds
        while time.monotonic() < deadline:
            claimed, still_due = self.rt.mailboxes.claim(token, self.max_claim)
            if not claimed:
                break
            if still_due:
                queues.kick_messages(self.rt.redis)
            outcomes = self.batch.run(claimed, token, self._failed)
            processed += sum(o.processed for o in outcomes.values())
        if self.rt.mailboxes.due_count():
            queues.kick_messages(self.rt.redis)  # out of time with work left: hand over to a fresh job
        return processed

    def _failed(self, failure: Failure) -> tuple[str | None, int]:
        """A message failed: (None, delay) to retry it after `delay` ms, or (reason, 0) to park it."""
        msg = json.loads(failure.raw)
        with logs.about(msg["message_id"]):
            counter = keys.attempts(msg["channel"], msg["message_id"])
            attempts = int(self.rt.redis.incr(counter))
            self.rt.redis.expire(counter, 86400)
            reason = f"{type(failure.exc).__name__}: {failure.exc}"[:300]
            limit = MAX_TRANSIENT_ATTEMPTS if failure.transient else MAX_BUG_ATTEMPTS
            if attempts < limit:
                delay = min(30_000, 500 * 2 ** (attempts - 1))
                log.warning("retrying in %d ms (attempt %d): %s", delay, attempts, reason)
                return None, delay
            return f"{reason} (after {attempts} attempts)", 0
