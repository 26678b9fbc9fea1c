"""Dead letters: work that kept failing, parked in `ol:deadletters` for an operator, and its retry.

Each entry is JSON {kind: inbound|outbound, reason, payload, at}. Its id is a hash of the entry
itself (the list has no ids, and positions move), so an id names the same failure on every page
load. A retry removes the entry and requeues its payload in one Lua call: two operators clicking
at once requeue it once.
- inbound: the raw mailbox entry goes back into its customer's mailbox (not through dedupe: its
  id was seen already), the mailbox is marked due and a drain job kicked; its failure count is
  reset so it gets a full set of attempts again. It joins the end of the mailbox.
- outbound: the reply goes back onto the outbound stream with its attempt count reset.
"""
from __future__ import annotations

import hashlib
import json

from . import keys, queues
from .mailbox import encode, now_ms
from .phones import mask

SCAN_PAGE = 500

RETRY_INBOUND = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[4])
redis.call('DEL', KEYS[4])
redis.call('HINCRBY', KEYS[6], 'dead_letters_retried:inbound', 1)
if redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[5]) then return 2 end
return 1
"""

RETRY_OUTBOUND = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'm', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'dead_letters_retried:outbound', 1)
return 1
"""


def entry_id(raw: str | bytes) -> str:
    return hashlib.sha256(raw if isinstance(raw, bytes) else raw.encode()).hexdigest()[:20]


def describe(raw: str | bytes) -> dict:
    """An entry for an operator's eyes: kind, reason, when, channel, masked address, the text."""
    entry = json.loads(raw)
    payload = json.loads(entry["payload"])
    return {"id": entry_id(raw), "kind": entry["kind"], "reason": entry["reason"], "at": entry["at"],
            "channel": payload.get("channel"), "to": mask(payload.get("address")),
            "text": (payload.get("text") or "")[:500],
            "message_id": payload.get("message_id") or payload.get("reply_id")}


def recent(redis, limit: int = 100) -> list[dict]:
    """The newest dead letters first."""
    return [describe(raw) for raw in reversed(redis.lrange(keys.DEAD_LETTERS, -limit, -1))]


def find(redis, wanted: str) -> bytes | str | None:
    """The raw entry with this id, or None (already retried, or never existed)."""
    total = redis.llen(keys.DEAD_LETTERS)
    for start in range(0, total, SCAN_PAGE):
        for raw in redis.lrange(keys.DEAD_LETTERS, start, start + SCAN_PAGE - 1):
            if entry_id(raw) == wanted:
                return raw
    return None


def retry(redis, wanted: str) -> dict | None:
    """Requeue the dead letter `wanted`; None if it is no longer there. Returns its description."""
    raw = find(redis, wanted)
    if raw is None:
        return None
    entry = json.loads(raw)
    payload = json.loads(entry["payload"])
    if entry["kind"] == "inbound":
        identity = f"{payload['channel']}:{payload['address']}"
        status = int(redis.register_script(RETRY_INBOUND)(
            keys=[keys.DEAD_LETTERS, keys.mailbox(identity), keys.READY,
                  keys.attempts(payload["channel"], payload["message_id"]), keys.KICK_MESSAGES, keys.STATS],
            args=[raw, entry["payload"], now_ms(), identity, queues.KICK_TTL]))
        if status == 2:
            queues.kick_messages(redis, already_claimed=True)
    else:
        fresh = encode({**payload, "attempt": 0})
        status = int(redis.register_script(RETRY_OUTBOUND)(keys=[keys.DEAD_LETTERS, keys.OUTBOUND, keys.STATS],
                                                           args=[raw, fresh]))
        if status:
            queues.kick_outbound(redis)
    return describe(raw) if status else None
