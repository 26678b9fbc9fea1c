"""Ingress: the one door every channel's messages come through. Dedupe, mailbox, kick; nothing else.

A message is *accepted* once its mailbox entry is written; from then on it is never lost.
"""
from __future__ import annotations

import dataclasses
import json
import logging

from channels.base import InboundMessage
from statemachine.handoff import CONTROL_KINDS

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

from . import keys, logs, queues
from .text import clean
from .errors import QueueUnavailable
from .mailbox import Mailboxes, encode
from .phones import mask
from .replication import wait_for_replicas

log = logging.getLogger("orderline.ingress")
OPERATOR = "operator"  # the counters' name for control messages from the shop's side


class Ingress:
    def __init__(self, mailboxes: Mailboxes, dedupe_ttl: int):
        self.redis = mailboxes.redis
        self.mailboxes = mailboxes  # the runtime's: one place registers the scripts
        self.dedupe_ttl = dedupe_ttl

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
        counted_as = OPERATOR if message.kind in CONTROL_KINDS else None
        try:
            status = self.mailboxes.accept(message.channel, message.message_id, message.identity,
                                           encode(message.to_dict()), self.dedupe_ttl, counted_as=counted_as,
                                           refused_set=refused_set, address=message.address)
            wait_for_replicas(self.redis, *getattr(self, "replica_wait", (0, 0)))  # a 200 survives a failover
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise QueueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc
        if status == 3:
            log.info("refused channel=%s from=%s (opted out)", message.channel, mask(message.address))
            return False
        if status == 0:
            log.info("duplicate delivery dropped channel=%s", message.channel)
            return False
        log.info("accepted channel=%s from=%s", message.channel, mask(message.address))
        if status == 2:
            try:
                queues.kick_messages(self.redis, already_claimed=True)
            except (RedisConnectionError, RedisTimeoutError):  # accepted; the maintenance sweep kicks later
                log.warning("accepted but could not queue a drain job")
        return True

    def wait_reply(self, message_id: str, timeout: float) -> dict | None:
        """Block (bounded) until the worker has answered a synchronous message; None past the bound."""
        if self.redis.blpop([keys.reply_ready(message_id)], timeout=max(0.01, timeout)) is None:
            return None
        return self.reply(message_id)

    def seen(self, channel: str, message_id: str) -> bool:
        return bool(self.redis.exists(keys.dedupe(channel, message_id)))

    def reply(self, message_id: str) -> dict | None:
        raw = self.redis.get(keys.reply(message_id))
        return json.loads(raw) if raw else None
