"""The inbound drain job: claim due mailboxes, process their messages in order, release them.

One job serves many customers (amortising RQ's per-job cost); a customer's messages are handled
by one worker at a time because the claim is exclusive. Failures are retried with backoff, and
a message that keeps failing is parked in the dead letters instead of blocking its mailbox.
"""
from __future__ import annotations

import json
import logging
import time
import uuid

from bot import keys, logs, queues
from bot.errors import TransientError
from bot.phones import mask

from . import context
from .step import BUSY, DONE, LOST

log = logging.getLogger("orderline.drain")

MAX_TRANSIENT_ATTEMPTS = 8  # store down for a while: keep retrying (backoff up to 30 s)
MAX_BUG_ATTEMPTS = 3  # an exception that is a bug will not fix itself: park soon
APOLOGY = "Sorry, something went wrong on our side and I couldn't process your last message. A person will look at it."


def drain_messages(budget_seconds: float = 10.0, batch: int = 1) -> int:
    """RQ job: process due mailboxes for up to `budget_seconds`; returns messages processed."""
    return Drainer(context.runtime(), context.step()).run(budget_seconds, batch)


class Drainer:
    def __init__(self, rt, step, per_identity: int = 10):
        self.rt, self.step, self.per_identity = rt, step, per_identity

    def run(self, budget_seconds: float = 10.0, batch: int = 1) -> int:
        """Claim a few mailboxes at a time; while more are due, keep one more job queued so idle
        workers join in (the kick key bounds that to one waiting job)."""
        self.rt.redis.delete(keys.KICK_MESSAGES)  # from here on, a new message may queue another job
        token, processed = uuid.uuid4().hex, 0
        deadline = time.monotonic() + budget_seconds
        while time.monotonic() < deadline:
            claimed = self.rt.mailboxes.claim(token, batch)
            if not claimed:
                break
            if self.rt.mailboxes.due_count():
                queues.kick_messages(self.rt.redis)
            for identity in claimed:
                processed += self.drain_identity(identity, token)
        if self.rt.mailboxes.due_count():
            queues.kick_messages(self.rt.redis)  # out of time with work left: hand over to a fresh job
        return processed

    def drain_identity(self, identity: str, token: str) -> int:
        done, retry_ms, owned = 0, 0, True
        try:
            while done < self.per_identity:
                heads = self.rt.mailboxes.head(identity)
                if not heads:
                    break
                status, retry_ms = self._one(identity, heads[0], token)
                if status == LOST:
                    owned = False  # another worker owns this mailbox now; leave its claim alone
                    break
                if status != DONE:
                    break
                done += 1
        finally:
            if owned:
                self.rt.mailboxes.release(identity, token, retry_ms)
        return done

    def _one(self, identity: str, head: str, token: str) -> tuple[str, int]:
        try:
            result = self.step.process(identity, head, token)
        except TransientError as exc:
            return self._failed(identity, head, token, exc, MAX_TRANSIENT_ATTEMPTS)
        except Exception as exc:  # a bug: logged with its traceback, retried a little, then parked
            log.exception("processing failed identity=%s", mask(identity))
            return self._failed(identity, head, token, exc, MAX_BUG_ATTEMPTS)
        if result.status == DONE:
            if result.outbound:
                queues.kick_outbound(self.rt.redis)
            return DONE, 0
        return result.status, (200 if result.status == BUSY else 0)

    def _failed(self, identity, head, token, exc, max_attempts) -> tuple[str, int]:
        msg = json.loads(head)
        with logs.about(msg["message_id"]):
            return self._retry_or_park(identity, head, token, exc, max_attempts, msg)

    def _retry_or_park(self, identity, head, token, exc, max_attempts, msg) -> tuple[str, int]:
        counter = keys.attempts(msg["channel"], msg["message_id"])
        attempts = int(self.rt.redis.incr(counter))
        self.rt.redis.expire(counter, 86400)
        reason = f"{type(exc).__name__}: {exc}"[:300]
        if attempts < max_attempts:
            delay = min(30_000, 500 * 2 ** (attempts - 1))
            log.warning("retrying in %d ms (attempt %d): %s", delay, attempts, reason)
            return "retry", delay
        if self.rt.mailboxes.park(identity, token, head, reason) == 1:
            log.error("parked after %d attempts: %s", attempts, reason)
            self._apologise(msg)
        return "parked", 0

    def _apologise(self, msg: dict) -> None:
        """Tell the customer (or the waiting caller) instead of leaving them in silence."""
        from channels.base import SYNC_CHANNELS, OutboundMessage
        from bot.mailbox import encode

        redis = self.rt.redis
        if msg["channel"] in SYNC_CHANNELS:
            body = json.dumps({"message_id": msg["message_id"], "to": msg["address"], "state": None,
                               "error": "processing_failed",
                               "replies": [{"text": APOLOGY, "buttons": [], "request_phone": False, "options": []}]})
            with redis.pipeline() as pipe:
                pipe.set(keys.reply(msg["message_id"]), body, ex=3600)
                pipe.rpush(keys.reply_ready(msg["message_id"]), "1")
                pipe.expire(keys.reply_ready(msg["message_id"]), 3600)
                pipe.execute()
        else:
            out = OutboundMessage(channel=msg["channel"], address=msg["address"], text=APOLOGY,
                                  reply_id=f"{msg['channel']}:{msg['message_id']}:apology")
            redis.xadd(keys.OUTBOUND, {"m": encode(out.to_dict())})
            queues.kick_outbound(redis)
