"""Per-customer mailboxes: accepted messages wait here, in arrival order, until a worker commits them.

Why not one RQ job per message: RQ's bookkeeping caps that near 250 jobs/s, and two jobs of one
customer could run at once. Instead each sender identity has a list; a sorted set says whose list
is due; a worker *claims* an identity with a leased token, reads the head message, and *commits*
(pops it, saves state, queues replies) in one Lua call that first checks the token. A worker that
dies leaves the message at the head and the lease runs out, so another worker processes it again.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from . import keys

ACCEPT = """
if KEYS[6] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[7]) == 1 then
  redis.call('HINCRBY', KEYS[5], 'ignored:' .. ARGV[6] .. '_opted_out', 1)
  return 3
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HINCRBY', KEYS[5], 'duplicates:' .. ARGV[6], 1)
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[3])
redis.call('HINCRBY', KEYS[5], 'messages_in:' .. ARGV[6], 1)
if redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[5]) then return 2 end
return 1
"""

# Claims a share of what is due: max(1, min(limit, due / share)), so one worker never takes all
# of a small backlog while others idle (two due customers go to two workers), and a large one is
# taken in batches. Returns the claimed identities, then how many are still due.
CLAIM = """
local now = tonumber(ARGV[1])
local due_count = redis.call('ZCOUNT', KEYS[1], '-inf', now)
local want = math.max(1, math.min(tonumber(ARGV[3]), math.floor(due_count / tonumber(ARGV[6]))))
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, want)
local got = {}
for _, id in ipairs(due) do
  local claim = ARGV[5] .. id
  if redis.call('SET', claim, ARGV[4], 'NX', 'PX', ARGV[2]) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1] + ARGV[2], id)
    table.insert(got, id)
  else
    local ttl = redis.call('PTTL', claim)
    if ttl < 0 then ttl = 100 end
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1] + ttl, id)
  end
end
table.insert(got, tostring(due_count - #due))
return got
"""

# KEYS: claim, mailbox, conv, old conv, outbound stream, stats, reply, reply_ready, link, conv lock
# ARGV: token, head, state, state ttl, reply, reply ttl, link phone, link ttl, lease ms,
#       n outbound, outbound..., then counter name/amount pairs
COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if KEYS[10] ~= '' and redis.call('GET', KEYS[10]) ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return -1 end
redis.call('LPOP', KEYS[2])
if ARGV[3] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4]) end
if KEYS[4] ~= KEYS[3] then redis.call('DEL', KEYS[4]) end
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[7], ARGV[5], 'EX', ARGV[6])
  redis.call('RPUSH', KEYS[8], '1')
  redis.call('EXPIRE', KEYS[8], ARGV[6])
end
if ARGV[7] == '-' then redis.call('DEL', KEYS[9])
elseif ARGV[7] ~= '' then redis.call('SET', KEYS[9], ARGV[7], 'EX', ARGV[8]) end
local n = tonumber(ARGV[10])
for i = 1, n do redis.call('XADD', KEYS[5], '*', 'm', ARGV[10 + i]) end
for i = 11 + n, #ARGV, 2 do redis.call('HINCRBY', KEYS[6], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
if KEYS[10] ~= '' then redis.call('PEXPIRE', KEYS[10], ARGV[9]) end
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if redis.call('LLEN', KEYS[2]) > 0 then
    redis.call('ZADD', KEYS[3], ARGV[3] + ARGV[4], ARGV[2])
  else
    redis.call('ZREM', KEYS[3], ARGV[2])
  end
  return 1
end
return 0
"""

PARK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return -1 end
redis.call('LPOP', KEYS[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('HINCRBY', KEYS[4], 'dead_letters:inbound', 1)
return 1
"""

LOCK_CONV = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

UNLOCK_CONV = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Commit:
    """Everything a processed message changes in Redis, applied at once or not at all."""

    identity: str
    token: str
    head: str  # the raw mailbox entry processed; the commit refuses if it is no longer first
    conv_key: str
    state_json: str  # '' deletes the conversation
    state_ttl: int
    old_conv_key: str | None = None  # a conversation that moved (identity key -> phone key)
    reply_id: str | None = None  # synchronous channels: the reply slot the caller waits on
    reply_json: str = ""
    reply_ttl: int = 3600
    link_phone: str = ""  # '' leaves the identity's link alone; '-' removes it
    link_ttl: int = 365 * 86400
    outbound: tuple[str, ...] = ()
    counters: dict[str, int] | None = None
    lock_key: str | None = None  # the conversation lock this turn holds (checked, and its lease renewed)


class Mailboxes:
    """The mailbox protocol on one Redis connection. Scripts are registered once per instance."""

    def __init__(self, redis, lease_ms: int = 30_000):
        self.redis = redis
        self.lease_ms = lease_ms
        self._accept = redis.register_script(ACCEPT)
        self._claim = redis.register_script(CLAIM)
        self._commit = redis.register_script(COMMIT)
        self._release = redis.register_script(RELEASE)
        self._lock = redis.register_script(LOCK_CONV)
        self._unlock = redis.register_script(UNLOCK_CONV)
        self._park = redis.register_script(PARK)

    def accept(self, channel: str, message_id: str, identity: str, payload: str, dedupe_ttl: int,
               kick_ttl: int = 30, counted_as: str | None = None, refused_set: str | None = None,
               address: str = "") -> int:
        """0: a duplicate (nothing stored); 1: stored; 2: stored, and the caller should kick a drain job;
        3: refused, `address` is in `refused_set` (a number that opted out). One round trip.

        `counted_as`: the channel name its messages_in/duplicates counters use (default `channel`).
        """
        return int(self._accept(
            keys=[keys.dedupe(channel, message_id), keys.mailbox(identity), keys.READY, keys.KICK_MESSAGES, keys.STATS,
                  refused_set or ""],
            args=[dedupe_ttl, payload, identity, now_ms(), kick_ttl, counted_as or channel, address],
        ))

    def claim(self, token: str, limit: int, share: int = 2) -> tuple[list[str], int]:
        """Claim up to `limit` due identities (a `share` of what is due); returns them and how many
        are still due after this claim."""
        got = [g.decode() if isinstance(g, bytes) else g
               for g in self._claim(keys=[keys.READY],
                                    args=[now_ms(), self.lease_ms, limit, token, keys.CLAIM_PREFIX, share])]
        return got[:-1], int(got[-1])

    def heads(self, identities: list[str], count: int) -> dict[str, list[str]]:
        """The first `count` messages of each mailbox, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for identity in identities:
                pipe.lrange(keys.mailbox(identity), 0, count - 1)
            got = pipe.execute()
        return {i: [h.decode() if isinstance(h, bytes) else h for h in hs] for i, hs in zip(identities, got)}

    def lock_conversations(self, conv_keys: list[str], token: str) -> dict[str, bool]:
        """Lock each conversation for this token (re-entrant), in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in conv_keys:
                self._lock(keys=[keys.conv_lock(key)], args=[token, self.lease_ms], client=pipe)
            got = pipe.execute()
        return {k: bool(ok) for k, ok in zip(conv_keys, got)}

    def lock_conversation(self, conv_key: str, token: str) -> bool:
        return bool(self._lock(keys=[keys.conv_lock(conv_key)], args=[token, self.lease_ms]))

    def unlock_conversation(self, conv_key: str, token: str) -> None:
        self._unlock(keys=[keys.conv_lock(conv_key)], args=[token])

    def commit_many(self, commits: list[Commit], after=None) -> list[int]:
        """Every commit in order, then `after(pipe)` (more writes for the same round trip); one
        round trip in all, returning every answer (the commits' first: 1 committed, 0 claim lost,
        -1 head moved). Each commit still checks its own claim and head, atomically."""
        with self.redis.pipeline(transaction=False) as pipe:
            for c in commits:
                self._commit_into(pipe, c)
            if after is not None:
                after(pipe)
            return pipe.execute()

    def _commit_into(self, pipe, c: Commit) -> None:
        counters = [x for name, n in (c.counters or {}).items() for x in (name, n)]
        self._commit(
            client=pipe,
            keys=[keys.claim(c.identity), keys.mailbox(c.identity), keys.conversation(c.conv_key),
                  keys.conversation(c.old_conv_key or c.conv_key), keys.OUTBOUND, keys.STATS,
                  keys.reply(c.reply_id or "-"), keys.reply_ready(c.reply_id or "-"), keys.link(c.identity),
                  keys.conv_lock(c.lock_key) if c.lock_key else ""],
            args=[c.token, c.head, c.state_json, c.state_ttl, c.reply_json, c.reply_ttl, c.link_phone, c.link_ttl,
                  self.lease_ms, len(c.outbound), *c.outbound, *counters],
        )

    def park_into(self, pipe, identity: str, token: str, head: str, reason: str) -> None:
        entry = encode({"kind": "inbound", "reason": reason, "payload": head, "at": time.time()})
        self._park(keys=[keys.claim(identity), keys.mailbox(identity), keys.DEAD_LETTERS, keys.STATS],
                   args=[token, head, entry], client=pipe)

    def release_into(self, pipe, identity: str, token: str, retry_in_ms: int = 0) -> None:
        self._release(keys=[keys.claim(identity), keys.mailbox(identity), keys.READY],
                      args=[token, identity, now_ms(), retry_in_ms], client=pipe)

    def unlock_into(self, pipe, conv_key: str, token: str) -> None:
        self._unlock(keys=[keys.conv_lock(conv_key)], args=[token], client=pipe)

    def due_count(self) -> int:
        return int(self.redis.zcount(keys.READY, "-inf", now_ms()))

    def pending_count(self) -> int:
        return int(self.redis.zcard(keys.READY))


def encode(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
