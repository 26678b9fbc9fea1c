"""Dead letters: work that could not be done, parked where operators see it, and its retry.

The one writer of the registry: a hash (id -> entry JSON) beside an index (id -> when), so an
entry is found by id without scanning, listed newest first, and trimmed by age and count. Ids are
derived from what was parked (a parked message parked twice is one entry). Entries never keep a
secret: a reply carrying a one-time code is stored without its text and cannot be retried.

Kinds, and where a retry puts them back:
- inbound: a customer's message that kept failing -> the head of its sender's mailbox;
- outbound: a reply that could not be sent -> the head of its recipient's outbox;
- delivery: a reply the provider accepted, then reported undelivered -> the head of the outbox
  (its text read back from the message history);
- undecodable: a queue entry nobody can read -> nowhere (it is kept for an operator to read).
"""
from __future__ import annotations

import enum
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from bot.common.phones import mask
from bot.pipeline import keys
from bot.pipeline.leases import now_ms
from bot.pipeline.messages import InboundMessage, OutboundMessage, encode
from bot.pipeline.scripts import Scripts

REDACTED = "[one-time code: not kept]"
# what a customer types back: "123456", "code 123 456"
LOOKS_LIKE_A_CODE = re.compile(r"\D{0,12}\d(?:[ -]?\d){3,9}\D{0,12}")


class Kind(str, enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    DELIVERY = "delivery"
    UNDECODABLE = "undecodable"


class NotRetryable(Exception):
    """This dead letter cannot be put back (nothing to resend, or nothing readable)."""


class QueueBusy(Exception):
    """A worker holds the queue the dead letter goes back to; try again in a moment."""


@dataclass(frozen=True)
class Parked:
    """A dead letter ready to be written: its id and its entry."""

    id: str
    entry: str


def inbound(raw: str, reason: str, now: float | None = None) -> Parked:
    """A customer's message (the raw mailbox entry) that could not be processed. One that may be a
    one-time code typed back (a few digits and little else) is kept without its text."""
    msg = json.loads(raw)
    natural = f"inbound:{msg['channel']}:{msg['message_id']}"
    secret = isinstance(msg.get("text"), str) and bool(LOOKS_LIKE_A_CODE.fullmatch(msg["text"].strip()))
    payload = encode({**msg, "text": REDACTED}) if secret else raw
    return _parked(natural, Kind.INBOUND, reason, payload, now, channel=msg["channel"], address=msg["address"],
                   message_id=msg["message_id"], identity=f"{msg['channel']}:{msg['address']}",
                   retryable=not secret)


def outbound(message: OutboundMessage, reason: str, now: float | None = None) -> Parked:
    """A reply that could not be sent. A redacted reply keeps everything but its text."""
    fields = message.to_dict()
    if message.redact:
        fields["text"] = REDACTED
    payload = encode({**fields, "attempt": 0, "parts_sent": 0, "first_failed_at": None})
    return _parked(f"outbound:{message.reply_id}", Kind.OUTBOUND, reason, payload, now, channel=message.channel,
                   address=message.address, message_id=message.reply_id, identity=message.recipient,
                   retryable=not message.redact)


def delivery(channel: str, address: str, provider_id: str, reason: str, reply_id: str | None,
             now: float | None = None) -> Parked:
    """A reply the provider took, then reported it could not deliver (Twilio's status callback)."""
    payload = encode({"channel": channel, "address": address, "provider_id": provider_id, "reply_id": reply_id})
    secret = bool(reply_id and reply_id.endswith(":code"))  # a one-time code's text is never kept to resend
    return _parked(f"delivery:{provider_id}", Kind.DELIVERY, reason, payload, now, channel=channel, address=address,
                   message_id=reply_id or provider_id, identity=f"{channel}:{address}",
                   retryable=bool(reply_id) and not secret)


def undecodable(raw: str, origin: str, tag: str, reason: str, now: float | None = None) -> Parked:
    """An entry of `origin` ('inbound' or 'outbound') queue `tag` that could not be read (one that
    says it holds a secret is not kept at all)."""
    payload = REDACTED if re.search(r'"redact"\s*:\s*true', raw) else raw[:4000]
    return _parked(f"undecodable:{keys.digest(raw)}", Kind.UNDECODABLE, reason, payload, now, channel=None,
                   address=None, message_id=None, identity=None, retryable=False, origin=origin, tag=tag)


def _parked(natural: str, kind: Kind, reason: str, payload: str, now: float | None, *, channel: str | None,
            address: str | None, message_id: str | None, identity: str | None, retryable: bool = True,
            **extra: Any) -> Parked:
    entry_id = keys.digest(natural)
    entry = {"id": entry_id, "kind": kind.value, "reason": reason[:300], "at": time.time() if now is None else now,
             "channel": channel, "address": address, "identity": identity, "message_id": message_id,
             "retryable": retryable, "payload": payload, **extra}
    return Parked(entry_id, encode(entry))


def describe(entry: dict) -> dict:
    """An entry for an operator's eyes: no full phone number."""
    payload = entry.get("payload") or ""
    text = ""
    if entry["kind"] in (Kind.INBOUND.value, Kind.OUTBOUND.value):
        try:
            text = (json.loads(payload).get("text") or "")[:500]
        except ValueError:
            text = ""
    return {"id": entry["id"], "kind": entry["kind"], "reason": entry["reason"], "at": entry["at"],
            "channel": entry.get("channel"), "to": mask(entry.get("address")), "text": text,
            "message_id": entry.get("message_id"), "retryable": entry.get("retryable", True)}


class DeadLetters:
    def __init__(self, redis: Redis, scripts: Scripts):
        self.redis, self.scripts = redis, scripts

    # -- writing outside a lease (a provider's report) -----------------------------------------
    def add(self, parked: Parked, counter: str) -> bool:
        """Write the entry unless it is there already (a provider reporting twice); True if written."""
        if not self.redis.hsetnx(keys.DEAD, parked.id, parked.entry):
            return False
        with self.redis.pipeline() as pipe:  # MULTI: its index and its counter together
            pipe.zadd(keys.DEAD_INDEX, {parked.id: json.loads(parked.entry)["at"]})
            pipe.hincrby(keys.STATS, counter, 1)
            pipe.execute()
        return True

    # -- reading ----------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.redis.zcard(keys.DEAD_INDEX))

    def get(self, entry_id: str) -> dict | None:
        raw = self.redis.hget(keys.DEAD, entry_id)
        return json.loads(raw) if raw else None

    def recent(self, limit: int = 100) -> list[dict]:
        """Newest first, described for operators."""
        ids = cast("list[bytes]", self.redis.zrevrange(keys.DEAD_INDEX, 0, limit - 1))
        if not ids:
            return []
        return [describe(json.loads(raw)) for raw in self.redis.hmget(keys.DEAD, ids) if raw]

    # -- retry ------------------------------------------------------------------------------------
    def retry(self, entry_id: str, resend_text: Callable[[str], str | None] = lambda reply_id: None) -> dict | None:
        """Put the dead letter back where it belongs; None if there is no such entry. Raises
        NotRetryable (nothing to put back) or QueueBusy (a worker holds that queue right now).
        `resend_text(reply_id)`: a delivered-then-failed reply's text, from the message history."""
        entry = self.get(entry_id)
        if entry is None:
            return None
        if not entry.get("retryable", True):
            raise NotRetryable(f"a {entry['kind']} dead letter cannot be retried: {entry['reason']}")
        kind = entry["kind"]
        if kind == Kind.INBOUND.value:
            msg = InboundMessage.from_dict(json.loads(entry["payload"]))
            k = keys.identity(msg.identity)
            status = self._requeue(entry_id, entry["payload"], k.tag, k.mailbox, k.claim, keys.READY,
                                   "dead_letters_retried:inbound", keys.failures(msg.channel, msg.message_id))
        else:
            message = self._reply_of(entry, resend_text)
            k = keys.identity(message.recipient)
            status = self._requeue(entry_id, encode(message.to_dict()), k.tag, k.outbox, k.outclaim, keys.OUT_READY,
                                   f"dead_letters_retried:{kind}", "")
        if status == 0:
            return None
        if status == 2:
            raise QueueBusy("a worker is busy with that customer right now; try again in a moment")
        return describe(entry)

    def _reply_of(self, entry: dict, resend_text: Callable[[str], str | None]) -> OutboundMessage:
        if entry["kind"] == Kind.OUTBOUND.value:
            return OutboundMessage.from_dict(json.loads(entry["payload"]))
        payload = json.loads(entry["payload"])
        text = resend_text(payload["reply_id"]) if payload.get("reply_id") else None
        if not text:
            raise NotRetryable("the undelivered reply's text is no longer kept")
        return OutboundMessage(channel=payload["channel"], address=payload["address"], text=text,
                               reply_id=payload["reply_id"] + ":resend")

    def _requeue(self, entry_id: str, payload: str, tag: str, queue: str, claim: str, ready: str, counter: str,
                 forget: str) -> int:
        return int(self.scripts.requeue(keys=[keys.DEAD, keys.DEAD_INDEX, queue, claim, ready, keys.STATS, forget],
                                        args=[entry_id, payload, tag, now_ms(), counter]))

    # -- erasure --------------------------------------------------------------------------------------
    def erase(self, phone: str, identities: Iterable[str] = ()) -> int:
        """Drop every entry about a customer who asked to be forgotten: to or from their number, from
        one of their own identities, or naming the number anywhere in what was parked (an
        integrator's message vouching for it). Returns how many went. Reads the whole registry
        (at most DEAD_LETTER_MAX entries): erasure is rare."""
        own = set(identities)
        named = re.compile(r"(?<!\d)" + re.escape(phone) + r"(?!\d)")
        doomed = []
        for entry_id, raw in self.redis.hscan_iter(keys.DEAD, count=500):
            text = raw.decode() if isinstance(raw, bytes) else raw
            try:
                entry = json.loads(text)
            except ValueError:
                entry = {}
            if entry.get("address") == phone or entry.get("identity") in own or named.search(text):
                doomed.append(entry_id)
        return self._drop(doomed)

    # -- retention ----------------------------------------------------------------------------------
    def trim(self, max_entries: int, max_age_seconds: float, now: float | None = None) -> int:
        """Drop entries older than `max_age_seconds`, then the oldest beyond `max_entries`."""
        now = time.time() if now is None else now
        old = cast("list[bytes]", self.redis.zrangebyscore(keys.DEAD_INDEX, "-inf", now - max_age_seconds))
        excess = int(self.redis.zcard(keys.DEAD_INDEX)) - len(old) - max_entries
        if excess > 0:
            old += cast("list[bytes]", self.redis.zrange(keys.DEAD_INDEX, len(old), len(old) + excess - 1))
        return self._drop(old)

    def _drop(self, entry_ids: list) -> int:
        """Remove entries from the registry and its index together; returns how many."""
        if entry_ids:
            with self.redis.pipeline() as pipe:
                pipe.hdel(keys.DEAD, *entry_ids)
                pipe.zrem(keys.DEAD_INDEX, *entry_ids)
                pipe.execute()
        return len(entry_ids)
