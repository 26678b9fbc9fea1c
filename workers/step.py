"""The conversation step: one accepted message through understanding, the state machine, the store,
and one atomic commit back to Redis (mailbox pop + state + replies).

Everything before the commit may run twice (a worker dies, the lease runs out, another worker
takes over); everything it writes is idempotent, and the commit checks the claim, so the
customer hears the answer once.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

import statemachine as sm
from channels.base import InboundMessage, OutboundMessage, SYNC_CHANNELS

from bot import keys, phones
from bot.mailbox import Commit, encode
from bot.nlu.types import NluContext
from bot.phones import mask

from .effects import Applied, EffectRunner, lock_seconds

log = logging.getLogger("orderline.worker")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

DONE, BUSY, LOST = "done", "busy", "lost"


@dataclass
class StepResult:
    status: str
    outbound: int = 0


def conversation_key(redis, message: InboundMessage) -> str:
    """Whose conversation: the vouched phone's, the identity's linked phone's, or the identity's own."""
    if message.contact:
        return f"phone:{message.contact}"
    linked = redis.get(keys.link(message.identity))
    if linked:
        return f"phone:{linked.decode() if isinstance(linked, bytes) else linked}"
    return f"id:{message.identity}"


class ConversationStep:
    """Built once per worker process; `process` handles one mailbox entry."""

    def __init__(self, rt):
        self.rt = rt
        s = rt.settings
        self.effects = EffectRunner(rt)
        self.limits = sm.Limits(
            shop_name=s.SHOP_NAME, currency=s.CURRENCY, otp_ttl_seconds=s.OTP_TTL_SECONDS,
            otp_max_attempts=s.OTP_MAX_ATTEMPTS, otp_lock_seconds=s.OTP_LOCK_MINUTES * 60,
            max_quantity=s.MAX_ITEM_QUANTITY)
        self.idle_seconds = s.IDLE_TIMEOUT_MINUTES * 60
        self.cart_keep_seconds = s.CART_KEEP_MINUTES * 60
        self.state_ttl = max(self.idle_seconds, self.cart_keep_seconds) + 86400

    def deps(self, catalog) -> sm.Deps:
        rt = self.rt

        def find_customer(phone):
            doc = rt.store.customers.find_by_phone(phone)
            return {"id": doc["_id"], "name": doc.get("name"), "address": doc.get("address")} if doc else None

        return sm.Deps(
            catalog=catalog, find_customer=find_customer, recent_orders=rt.store.orders.recent,
            verification_lock=lambda phone: lock_seconds(rt.redis, phone),
            normalize_phone=lambda raw: phones.normalize(raw, rt.settings.DEFAULT_REGION),
            new_code=lambda: f"{secrets.randbelow(10 ** 6):06d}", new_salt=lambda: secrets.token_hex(8),
            saved_cart=lambda phone: (self.load(f"phone:{phone}") or sm.Conversation()).cart,
        )

    def load(self, conv_key: str) -> sm.Conversation | None:
        raw = self.rt.redis.get(keys.conversation(conv_key))
        if not raw:
            return None
        try:
            return sm.Conversation.from_dict(json.loads(raw))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("conversation %s unreadable (%s); starting a new one", conv_key.split(":")[0], exc)
            return None

    def process(self, identity: str, raw: str, token: str) -> StepResult:
        rt = self.rt
        msg = InboundMessage.from_dict(json.loads(raw))
        conv_key = conversation_key(rt.redis, msg)
        if not rt.mailboxes.lock_conversation(conv_key, token):
            return StepResult(BUSY)  # the same customer is mid-turn on another channel
        try:
            return self._process(identity, raw, token, msg, conv_key)
        finally:
            rt.mailboxes.unlock_conversation(conv_key, token)

    def _process(self, identity, raw, token, msg, conv_key) -> StepResult:
        rt = self.rt
        now = time.time()
        conv = self.load(conv_key) or sm.Conversation()
        state_before = conv.state
        pre_effects = []
        if conv.updated_at and now - conv.updated_at > self.idle_seconds:
            pre_effects = sm.idle_reset(conv, now, keep_cart=now - conv.updated_at <= self.cart_keep_seconds)
        elif msg.meta.get("session_start") and conv.state != "greeting":
            sm.idle_reset(conv, now, keep_cart=True)  # a new phone call starts at greeting; the cart stays
        catalog = rt.catalog.current()
        nlu = rt.nlu.understand(msg.text, NluContext(
            state=conv.state, step=conv.step, history=[tuple(h) for h in conv.history], customer_key=conv_key,
            max_quantity=self.limits.max_quantity))
        turn = sm.Turn(text=msg.text, nlu=nlu, now=now, deps=self.deps(catalog),
                       limits=self.limits, channel=msg.channel, message_id=msg.message_id,
                       identity=msg.identity, contact=msg.contact, kind=msg.kind)
        outcome = sm.advance(conv, turn)
        replies = list(outcome.replies)
        applied = self.effects.apply(pre_effects + outcome.effects, turn, Applied())
        for effect, result in applied.results:
            follow = sm.resolve(conv, turn, effect, result)
            replies += follow.replies
            self.effects.apply(follow.effects, turn, applied)
        replies = sm.combine(replies)
        sm.remember(conv, msg.text, replies)

        if not applied.erased:
            self._record(msg, conv, nlu, replies, conv_key, state_before, now)
        commit = self._commit(identity, token, raw, msg, conv, conv_key, replies, applied)
        status = rt.mailboxes.commit(commit)
        if status != 1:
            log.warning("commit refused (%s) identity=%s message=%s", "claim lost" if status == 0 else "head moved",
                        mask(identity), msg.message_id)
            return StepResult(LOST)
        log.info("processed channel=%s message=%s state=%s->%s replies=%d ms=%.1f", msg.channel, msg.message_id,
                 state_before, conv.state, len(replies), (time.time() - now) * 1000)
        return StepResult(DONE, len(commit.outbound))

    def _record(self, msg, conv, nlu, replies, conv_key, state_before, now) -> None:
        store, base = self.rt.store, f"{msg.channel}:{msg.message_id}"
        common = {"phone": conv.phone, "identity": msg.identity, "channel": msg.channel}
        understood = nlu.to_dict()
        entities = {k: understood[k] for k in ("items", "unknown", "ambiguous", "invalid") if understood[k]}
        rows = [{"_id": base + ":in", **common, "direction": "in", "text": msg.text, "intent": nlu.intent,
                 "entities": entities, "state": state_before, "at": msg.received_at, "message_id": msg.message_id,
                 "processed_at": now, "processed_by": WORKER_ID}]
        rows += [{"_id": f"{base}:out:{i}", **common, "direction": "out", "text": r.text, "intent": None,
                  "entities": {}, "state": conv.state, "at": now, "message_id": msg.message_id}
                 for i, r in enumerate(replies)]
        store.messages.record(rows)
        if conv.state != state_before or conv.turns == 1:
            store.conversations.touch(self._target_key(conv, msg), state=conv.state, channel=msg.channel,
                                      phone=conv.phone, now=now, started_at=conv.started_at)

    @staticmethod
    def _target_key(conv, msg) -> str:
        return f"phone:{conv.phone}" if conv.phone else f"id:{msg.identity}"

    def _commit(self, identity, token, raw, msg, conv, conv_key, replies, applied: Applied) -> Commit:
        target = self._target_key(conv, msg)
        outbound = list(applied.outbound)
        reply_json = ""
        if msg.channel in SYNC_CHANNELS:
            reply_json = json.dumps({"message_id": msg.message_id, "to": msg.address, "state": conv.state,
                                     "replies": [r.to_dict() for r in replies]})
        else:
            outbound += [OutboundMessage(channel=msg.channel, address=msg.address, text=r.text,
                                         reply_id=f"{msg.channel}:{msg.message_id}:{i}", buttons=r.buttons,
                                         request_phone=r.request_phone) for i, r in enumerate(replies)]
        counters = dict(applied.counters)
        counters[f"messages_out:{msg.channel}"] = counters.get(f"messages_out:{msg.channel}", 0) + len(replies)
        counters[f"turns:{msg.channel}"] = 1
        return Commit(
            identity=identity, token=token, head=raw, conv_key=target,
            state_json="" if applied.erased else json.dumps(conv.to_dict(), separators=(",", ":")),
            state_ttl=self.state_ttl, old_conv_key=conv_key if target != conv_key else None,
            reply_id=msg.message_id if reply_json else None, reply_json=reply_json,
            link_phone=applied.link_phone, outbound=tuple(encode(m.to_dict()) for m in outbound),
            counters=counters, lock_key=conv_key,
        )
