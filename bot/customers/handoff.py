"""Conversations waiting for a person: the operators' list (oldest first), and the control
messages an operator sends through the customer's mailbox.

The list is a sorted set (handoff id -> when it asked) beside a hash of who it is and where they
wrote from. A handoff's id is an opaque digest of its conversation key: it is what operators'
URLs carry (`/api/handoffs/<id>/reply`), so no phone number is in a URL, an access log or a key.
The operator's reply and hand-back are not sent from here: they join the customer's mailbox like
any message, so the worker handles them in order, under the conversation's lock, and the customer
hears them on their own channel.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import cast

from redis import Redis

from bot.common import redis_keys
from bot.pipeline import InboundMessage
from bot.pipeline import keys as pkeys
from statemachine.handoff import HANDBACK, OPERATOR_REPLY


def key_for(phone: str | None, identity: str) -> str:
    """The conversation's key, as the worker saves it (workers.step: phone once verified)."""
    return f"phone:{phone}" if phone else f"id:{identity}"


def handoff_id(conv_key: str) -> str:
    """The opaque id operators see and send back for a waiting conversation."""
    return "h" + pkeys.digest("handoff:" + conv_key)


def wait(redis: Redis, *, identity: str, phone: str | None, name: str | None, text: str,
         now: float | None = None) -> str:
    """Put the conversation on the list; asking again keeps its place (idempotent). Returns its id."""
    now = time.time() if now is None else now
    key = key_for(phone, identity)
    hid = handoff_id(key)
    channel, _, address = identity.partition(":")
    info = {"id": hid, "key": key, "identity": identity, "channel": channel, "address": address, "phone": phone,
            "name": name, "text": text, "since": now}
    with redis.pipeline() as pipe:
        pipe.zadd(redis_keys.HANDOFF, {hid: now}, nx=True)
        pipe.hsetnx(redis_keys.HANDOFF_INFO, hid, json.dumps(info))
        pipe.execute()
    return hid


def done(redis: Redis, *conv_keys: str) -> None:
    ids = [handoff_id(k) for k in conv_keys if k]
    if ids:
        with redis.pipeline() as pipe:
            pipe.zrem(redis_keys.HANDOFF, *ids)
            pipe.hdel(redis_keys.HANDOFF_INFO, *ids)
            pipe.execute()


def get(redis: Redis, conv_key: str) -> dict | None:
    """The waiting entry of a conversation (by its key), or None."""
    return by_id(redis, handoff_id(conv_key))


def by_id(redis: Redis, hid: str) -> dict | None:
    """The waiting entry with this opaque id, or None."""
    raw = redis.hget(redis_keys.HANDOFF_INFO, hid)
    return json.loads(raw) if raw and redis.zscore(redis_keys.HANDOFF, hid) is not None else None


def waiting(redis: Redis, limit: int = 100) -> list[dict]:
    """Waiting conversations, oldest first."""
    entries = cast("list[bytes]", redis.zrange(redis_keys.HANDOFF, 0, limit - 1))
    if not entries:
        return []
    infos = redis.hmget(redis_keys.HANDOFF_INFO, entries)
    return [json.loads(raw) for raw in infos if raw]


def count(redis: Redis) -> int:
    return int(redis.zcard(redis_keys.HANDOFF))


def send(ingress, info: dict, kind: str, text: str = "", by: str = "operator") -> str:
    """Queue an operator's reply (or the hand-back) into the customer's mailbox; returns its message id."""
    if kind not in (OPERATOR_REPLY, HANDBACK):
        raise ValueError(f"not a control kind: {kind!r}")
    message_id = "op-" + uuid.uuid4().hex
    ingress.accept(InboundMessage(channel=info["channel"], message_id=message_id, address=info["address"],
                                  text=text, contact=info.get("phone"), kind=kind, meta={"by": by}))
    return message_id
