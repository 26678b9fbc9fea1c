"""The outbox: the one writer of replies, and the reader of reply slots.

Where a reply goes is decided here, once: a caller waiting on a synchronous channel (/api/chat,
voice, the console) gets a *reply slot* its request blocks on; everyone else's replies join their
recipient's *outbox*, a leased queue (bot/pipeline/leases.py) that delivery sends strictly in
order, one reply at a time, popping each only after its send. So one recipient's replies leave in
commit order whatever the number of workers, and a slow provider never causes a second send.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from bot.pipeline import keys, notices, queues
from bot.pipeline.leases import LeasedQueues, now_ms, outbox_keys
from bot.pipeline.messages import SYNC_CHANNELS, InboundMessage, OutboundMessage, encode
from bot.pipeline.scripts import Scripts

REPLY_TTL = 3600  # a reply slot waits this long for its caller (or a poll)


@dataclass
class Routed:
    """Where one turn's replies go, as the commit writes them."""

    slot: str = ""  # a synchronous caller's reply (JSON), or ''
    outbound: list[tuple[str, str]] = field(default_factory=list)  # (recipient tag, reply JSON)
    notices: list[tuple[str, str, str]] = field(default_factory=list)  # (notice id, text, kind) for a sync identity
    notices_for: str = ""  # that identity
    notices_phone: str = ""  # the customer they are about


def slot_body(message_id: str, to: str, state: str | None, replies: list[dict], error: str | None = None) -> str:
    """A synchronous caller's reply. `to` (who may read it) is kept as a digest of the address: an
    integrator's user id may be a phone number, and the slot outlives an erasure by up to an hour."""
    body: dict[str, Any] = {"message_id": message_id, "to": recipient_tag(to), "state": state, "replies": replies}
    if error:
        body["error"] = error
    return json.dumps(body)


def recipient_tag(address: str) -> str:
    """What a reply slot keeps of its reader's address (compare with this, never with the address)."""
    return keys.digest("to:" + address)


def entry(message: OutboundMessage) -> tuple[str, str]:
    """(the recipient's tag, the reply as queued)."""
    return keys.identity(message.recipient).tag, encode(message.to_dict())


def route(msg: InboundMessage, replies: list[dict], state: str | None, *, control: bool,
          extra: Iterable[OutboundMessage] = ()) -> Routed:
    """A turn's replies (`[{text, buttons, request_phone, options}]`) for the message `msg`, plus
    `extra` messages the turn's effects send elsewhere (a one-time code by SMS)."""
    routed = Routed(outbound=[entry(m) for m in extra])
    if msg.channel in SYNC_CHANNELS:
        if control:  # an operator's words: nobody waits on a slot, they are kept for polling
            routed.notices = [(f"{msg.message_id}:{i}", r["text"], msg.kind) for i, r in enumerate(replies)]
            routed.notices_for, routed.notices_phone = msg.identity, msg.contact or ""
        else:
            routed.slot = slot_body(msg.message_id, msg.address, state, replies)
        return routed
    template = msg.meta.get("template", "") if control else ""  # a message the shop sends first
    routed.outbound += [entry(OutboundMessage(
        channel=msg.channel, address=msg.address, text=r["text"], reply_id=f"{msg.channel}:{msg.message_id}:{i}",
        buttons=tuple(r.get("buttons", ())), request_phone=r.get("request_phone", False),
        received_at=msg.received_at, template=template if i == 0 else "",
        variables=dict(msg.meta.get("variables") or {}) if template and i == 0 else {}))
        for i, r in enumerate(replies)]
    return routed


class Outbox:
    def __init__(self, redis: Redis, scripts: Scripts, lease_ms: int):
        self.redis, self.scripts = redis, scripts
        self.queues = LeasedQueues(redis, scripts, keys.OUT_READY, outbox_keys, lease_ms)

    # -- writing outside a turn (order updates, operators' messages to synchronous channels) -----
    def push(self, messages: Iterable[OutboundMessage], counters: dict[str, int] | None = None) -> int:
        """Queue replies at the end of their recipients' outboxes (MULTI: all or none)."""
        messages = list(messages)
        if not messages:
            return 0
        now = now_ms()
        with self.redis.pipeline() as pipe:
            for m in messages:
                tag, raw = entry(m)
                pipe.rpush(keys.tagged(tag).outbox, raw)
                pipe.zadd(keys.OUT_READY, {tag: now}, nx=True)
            for name, n in (counters or {}).items():
                pipe.hincrby(keys.STATS, name, n)
            pipe.execute()
        return len(messages)

    def kick(self) -> None:
        """Make sure a delivery job will send what was pushed."""
        queues.kick_outbound(self.redis)

    def notify(self, identity: str, items: list[tuple[str, str, str]], counters: dict[str, int] | None = None,
               phone: str | None = None) -> None:
        """Notices for a synchronous identity (nothing can be pushed to it), about the customer `phone`."""
        with self.redis.pipeline() as pipe:
            notices.add(pipe, identity, items, phone=phone)
            for name, n in (counters or {}).items():
                pipe.hincrby(keys.STATS, name, n)
            pipe.execute()

    # -- reply slots ------------------------------------------------------------------------------
    def reply(self, message_id: str) -> dict | None:
        raw = self.redis.get(keys.reply(message_id))
        return json.loads(raw) if raw else None

    def wait_reply(self, message_id: str, timeout: float) -> dict | None:
        """Block (bounded) until the reply slot is written; None past the bound."""
        if self.redis.blpop([keys.reply_ready(message_id)], timeout=max(0.01, timeout)) is None:
            return None
        return self.reply(message_id)

    def forget_replies(self, message_ids: Iterable[str]) -> None:
        names = [k for m in message_ids for k in (keys.reply(m), keys.reply_ready(m))]
        if names:
            self.redis.delete(*names)

    # -- delivery: one recipient's outbox at a time -----------------------------------------------
    def head(self, tag: str) -> str | None:
        raw = self.redis.lindex(keys.tagged(tag).outbox, 0)
        return raw.decode() if isinstance(raw, bytes) else raw

    def advance(self, tag: str, token: str, head: str, new_head: str = "", counter: str = "") -> tuple[int, str | None]:
        """After sending from `head`: drop it ('' new head) or record progress in it. Returns (1, the
        next head, or None when the outbox is empty and released); (0, None) the lease is lost;
        (-1, None) the head moved."""
        k = keys.tagged(tag)
        got = self.scripts.advance(keys=[k.outclaim, k.outbox, keys.STATS, keys.OUT_READY],
                                   args=[token, head, new_head, now_ms() + self.queues.lease_ms, counter, tag])
        nxt = got[1] if len(got) > 1 else None
        return int(got[0]), (nxt.decode() if isinstance(nxt, bytes) else nxt)

    def park(self, tag: str, token: str, head: str, parked_id: str, parked_entry: str, counter: str) -> int:
        k = keys.tagged(tag)
        return int(self.scripts.park(
            keys=[k.outclaim, k.outbox, keys.DEAD, keys.DEAD_INDEX, keys.STATS, "", ""],
            args=[token, head, parked_id, parked_entry, json.loads(parked_entry)["at"], counter, "", "", "",
                  now_ms()]))

    def pending(self) -> int:
        """Recipients with replies waiting (due now, or retrying later)."""
        return self.queues.waiting_count()


def apology(message: dict, text: str) -> tuple[str, str, str]:
    """How the customer of a parked message hears `text`: ('slot', reply body, message id) for a
    waiting caller, ('outbox', reply, recipient tag) for everyone else. Written by the park itself,
    so a parked message is apologised for exactly once."""
    if message["channel"] in SYNC_CHANNELS:
        reply = {"text": text, "buttons": [], "request_phone": False, "options": []}
        return "slot", slot_body(message["message_id"], message["address"], None, [reply], "processing_failed"), \
            message["message_id"]
    tag, raw = entry(OutboundMessage(channel=message["channel"], address=message["address"], text=text,
                                     reply_id=f"{message['channel']}:{message['message_id']}:apology"))
    return "outbox", raw, tag
