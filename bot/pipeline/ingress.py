"""Ingress: the one door every channel's messages come through. Dedupe, mailbox, kick; nothing else.

A message is *accepted* once its mailbox entry is written; from then on it is never lost.
"""
from __future__ import annotations

import dataclasses
import logging

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.common import logs
from bot.common.errors import QueueUnavailable
from bot.common.phones import mask
from bot.common.text import clean
from bot.pipeline import keys, queues, seen
from bot.pipeline.leases import now_ms
from bot.pipeline.messages import InboundMessage, encode
from bot.pipeline.outbox import Outbox
from bot.pipeline.replication import Replicas
from bot.pipeline.scripts import Scripts
from statemachine.handoff import CONTROL_KINDS

log = logging.getLogger("orderline.ingress")
OPERATOR = "operator"  # the counters' name for control messages from the shop's side
DUPLICATE, STORED, STORED_KICK, REFUSED = 0, 1, 2, 3


class Ingress:
    def __init__(self, redis: Redis, scripts: Scripts, outbox: Outbox, dedupe_ttl: int, replicas: Replicas):
        self.redis, self.scripts, self.outbox = redis, scripts, outbox
        self.dedupe_ttl, self.replicas = dedupe_ttl, replicas

    def accept(self, message: InboundMessage, refused_set: str | None = None) -> bool:
        """Store the message in its sender's mailbox; False if this message id was seen before, or
        if the sender's address is in `refused_set` (checked in the same round trip)."""
        with logs.about(message.message_id):
            return self._accept(message, refused_set)

    def _accept(self, message: InboundMessage, refused_set: str | None = None) -> bool:
        text, cut = clean(message.text)
        if text != message.text:
            message = dataclasses.replace(message, text=text, meta={**message.meta, "truncated": True} if cut
                                          else message.meta)
        # the shop's own control messages (an operator's reply, a hand-back) are not customer messages
        control = message.kind in CONTROL_KINDS
        counted_as = OPERATOR if control else message.channel
        k = keys.identity(message.identity)
        try:
            status = int(self.scripts.accept(
                keys=[keys.dedupe(message.channel, message.message_id), k.mailbox, keys.READY, keys.KICK_MESSAGES,
                      keys.STATS, refused_set or "", "" if control else k.seen],
                args=[self.dedupe_ttl, encode(message.to_dict()), k.tag, now_ms(), queues.KICK_TTL, counted_as,
                      message.address, seen.KEEP_SECONDS]))
            self.replicas.wait()  # a message answered 200 survives losing the primary
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise QueueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc
        if status == REFUSED:
            log.info("refused channel=%s from=%s (opted out)", message.channel, mask(message.address))
            return False
        if status == DUPLICATE:
            log.info("duplicate delivery dropped channel=%s", message.channel)
            return False
        log.info("accepted channel=%s from=%s", message.channel, mask(message.address))
        if status == STORED_KICK:
            try:
                queues.kick_messages(self.redis, already_claimed=True)
            except (RedisConnectionError, RedisTimeoutError):  # accepted; the maintenance sweep kicks later
                log.warning("accepted but could not queue a drain job")
        return True

    def wait_reply(self, message_id: str, timeout: float) -> dict | None:
        """Block (bounded) until the worker has answered a synchronous message; None past the bound."""
        return self.outbox.wait_reply(message_id, timeout)

    def reply(self, message_id: str) -> dict | None:
        return self.outbox.reply(message_id)

    def seen(self, channel: str, message_id: str) -> bool:
        return bool(self.redis.exists(keys.dedupe(channel, message_id)))
