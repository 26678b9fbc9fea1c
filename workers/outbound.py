"""Outbound delivery: replies for asynchronous channels wait in a Redis stream until a sender takes them.

A failed send is retried with backoff (the conversation step is never re-run for it); a send that
keeps failing, or that the channel refuses for good, is parked in the dead letters with its reason.
The stream's consumer group remembers what a dead worker had taken, and another worker reclaims it.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time

from redis.exceptions import ResponseError

from bot import keys, logs, queues
from bot.errors import PermanentSendError, TransientSendError
from bot.mailbox import encode, now_ms
from bot.phones import mask
from channels.base import OutboundMessage

from . import context

log = logging.getLogger("orderline.outbound")

GROUP = "senders"
BACKOFF_SECONDS = (2, 5, 15, 60, 300, 900)  # then dead letter
STALE_MS = 60_000  # an entry taken this long ago by a silent consumer is reclaimed

REQUEUE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 200)
for _, m in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'm', m)
  redis.call('ZREM', KEYS[1], m)
end
return #due
"""


def deliver(budget_seconds: float = 10.0, batch: int = 50) -> int:
    """RQ job: send queued replies for up to `budget_seconds`; returns how many were sent."""
    return Delivery(context.runtime()).run(budget_seconds, batch)


class Delivery:
    def __init__(self, rt, consumer: str | None = None):
        self.rt, self.redis = rt, rt.redis
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}"
        self._requeue = self.redis.register_script(REQUEUE_DUE)

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(keys.OUTBOUND, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def requeue_due(self) -> int:
        """Move retries whose time has come back onto the stream."""
        return int(self._requeue(keys=[keys.OUTBOUND_RETRY, keys.OUTBOUND], args=[now_ms()]))

    def run(self, budget_seconds: float = 10.0, batch: int = 50) -> int:
        self.redis.delete(keys.KICK_OUTBOUND)
        self.ensure_group()
        self.requeue_due()
        sent, deadline = 0, time.monotonic() + budget_seconds
        while time.monotonic() < deadline:
            entries = self._take(batch)
            if not entries:
                break
            for entry_id, fields in entries:
                sent += self._send(entry_id, fields)
        return sent

    def _take(self, batch: int):
        _, stale, _ = self.redis.xautoclaim(keys.OUTBOUND, GROUP, self.consumer, STALE_MS, "0-0", count=batch)
        if stale:
            return stale
        got = self.redis.xreadgroup(GROUP, self.consumer, {keys.OUTBOUND: ">"}, count=batch)
        return got[0][1] if got else []

    def _send(self, entry_id, fields) -> int:
        raw = fields.get(b"m") or fields.get("m")
        message = OutboundMessage.from_dict(json.loads(raw))
        with logs.about(message.reply_id.split(":")[1] if message.reply_id.count(":") >= 2 else message.reply_id):
            return self._send_one(entry_id, message)

    def _send_one(self, entry_id, message: OutboundMessage) -> int:
        sender = self.rt.sender(message.channel)
        ok = 0
        try:
            if sender is None:
                raise PermanentSendError(f"no sender configured for channel {message.channel!r}")
            sender.send(message)
            ok = 1
            self.redis.hincrby(keys.STATS, f"sent:{message.channel}", 1)
            log.info("sent channel=%s to=%s", message.channel, mask(message.address))
        except TransientSendError as exc:
            self._retry(message, exc)
        except PermanentSendError as exc:
            self.park(message, f"{type(exc).__name__}: {exc}")
        with self.redis.pipeline() as pipe:
            pipe.xack(keys.OUTBOUND, GROUP, entry_id)
            pipe.xdel(keys.OUTBOUND, entry_id)
            pipe.execute()
        return ok

    def _retry(self, message: OutboundMessage, exc: TransientSendError) -> None:
        if message.attempt >= len(BACKOFF_SECONDS):
            return self.park(message, f"gave up after {message.attempt + 1} attempts: {exc}")
        delay = max(BACKOFF_SECONDS[message.attempt], exc.retry_after or 0)
        again = OutboundMessage.from_dict({**message.to_dict(), "attempt": message.attempt + 1})
        self.redis.zadd(keys.OUTBOUND_RETRY, {encode(again.to_dict()): now_ms() + int(delay * 1000)})
        log.warning("send failed, retry in %ss channel=%s to=%s: %s", delay, message.channel,
                    mask(message.address), exc)

    def park(self, message: OutboundMessage, reason: str) -> None:
        entry = encode({"kind": "outbound", "reason": reason[:300], "payload": encode(message.to_dict()),
                        "at": time.time()})
        with self.redis.pipeline() as pipe:
            pipe.rpush(keys.DEAD_LETTERS, entry)
            pipe.hincrby(keys.STATS, "dead_letters:outbound", 1)
            pipe.execute()
        log.error("send parked channel=%s to=%s: %s", message.channel, mask(message.address), reason)


def pending(redis) -> int:
    """Replies waiting: in the stream (new or taken) plus scheduled retries."""
    try:
        stream = int(redis.xlen(keys.OUTBOUND))
    except ResponseError:
        stream = 0
    return stream + int(redis.zcard(keys.OUTBOUND_RETRY))


def kick_if_pending(redis) -> None:
    if pending(redis):
        queues.kick_outbound(redis)
