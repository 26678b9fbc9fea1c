"""A batch: the messages of several claimed mailboxes, processed with a handful of round trips.

Per batch, not per message: read the mailboxes' heads; resolve links; lock the conversations;
load their states and count the rate limit; (process every message in memory, in order per
customer, effects performed as they come); write all history rows at once; then one pipeline of
commits (each still atomic and checking its claim and head), activity, parks, unlocks and
releases. Profiling showed the step waiting on ~15 round trips per message; this is ~7 per batch.

Order and safety are the single message's: a customer's messages are processed one after another
on the conversation in memory; a batch stops a customer at a failure, or when their conversation
moves to another key (verification, erasure) so the next batch locks the new key.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass

from bot import activity, keys, logs, queues
from bot.errors import TransientError
from bot.phones import mask
from channels.base import InboundMessage

from .apology import apologise
from .step import ConversationStep, Processed, conversation_key, parse_conversation

log = logging.getLogger("orderline.drain")

BUSY_RETRY_MS = 200  # the customer's conversation is locked by a turn on another channel


@dataclass
class Failure:
    identity: str
    raw: str
    exc: Exception
    transient: bool


@dataclass
class IdentityOutcome:
    processed: int = 0
    retry_ms: int = 0


class Batch:
    def __init__(self, rt, step: ConversationStep, per_identity: int = 10):
        self.rt, self.step, self.per_identity = rt, step, per_identity

    def run(self, identities: list[str], token: str, on_failure) -> dict[str, IdentityOutcome]:
        """Process what `identities` hold. `on_failure(failure) -> (park_reason | None, retry_ms)`
        decides a failed message's fate (retry later, or park)."""
        rt, out = self.rt, {i: IdentityOutcome() for i in identities}
        queued = self._read(identities)
        conv_keys, linked = self._conversation_keys(queued)
        locked = rt.mailboxes.lock_conversations(sorted(set(conv_keys.values())), token) if conv_keys else {}
        for identity, key in conv_keys.items():
            if not locked[key]:
                out[identity].retry_ms = BUSY_RETRY_MS
        runnable = [i for i in identities if i in conv_keys and locked[conv_keys[i]]]
        states, rates = self._load(runnable, conv_keys, queued)

        processed: list[Processed] = []
        parks: list[tuple[str, str, str]] = []
        for identity in runnable:
            key = conv_keys[identity]
            conv = parse_conversation(key, states[key])
            for n, (raw, msg) in enumerate(queued[identity]):
                if conversation_key(msg, None if msg.contact else linked.get(identity)) != key:
                    break  # a later message belongs to another conversation: the next batch
                try:
                    with logs.about(msg.message_id):
                        done = self.step.turn(identity, raw, msg, conv, key, token, rates[key] + n)
                except Exception as exc:  # noqa: BLE001 - the drain decides: retry (transient) or park (a bug)
                    transient = isinstance(exc, TransientError)
                    if not transient:
                        log.exception("processing failed identity=%s", mask(identity))
                    reason, retry_ms = on_failure(Failure(identity, raw, exc, transient))
                    if reason is not None:
                        parks.append((identity, raw, reason))
                    out[identity].retry_ms = retry_ms
                    break
                processed.append(done)
                out[identity].processed += 1
                conv = done.conv
                if done.moved:
                    break
        self._write_history(processed)
        results = rt.mailboxes.commit_many(
            [p.commit for p in processed],
            after=lambda pipe: self._finish(pipe, processed, parks, identities, conv_keys, locked, out, token))
        self._after_commit(processed, results[:len(processed)], parks, results[len(processed):][:len(parks)], out)
        return out

    # -- the phases ------------------------------------------------------------------------
    def _read(self, identities):
        heads = self.rt.mailboxes.heads(identities, self.per_identity)
        return {i: [(raw, InboundMessage.from_dict(json.loads(raw))) for raw in heads[i]] for i in identities}

    def _conversation_keys(self, queued) -> tuple[dict[str, str], dict]:
        """Each identity's conversation, from its first message, and the links read for it (one
        round trip); the links also place the identity's later messages."""
        need = [i for i, msgs in queued.items() if msgs and not msgs[0][1].contact]
        linked = {}
        if need:
            with self.rt.redis.pipeline(transaction=False) as pipe:
                for identity in need:
                    pipe.get(keys.link(identity))
                linked = dict(zip(need, pipe.execute()))
        return {i: conversation_key(msgs[0][1], linked.get(i)) for i, msgs in queued.items() if msgs}, linked

    def _load(self, runnable, conv_keys, queued):
        """States, and the rate-limit counters bumped by each conversation's messages in this batch."""
        keys_needed = sorted({conv_keys[i] for i in runnable})
        counts = Counter(conv_keys[i] for i in runnable for _ in queued[i])
        if not keys_needed:
            return {}, {}
        now_minute = int(time.time() // 60)
        with self.rt.redis.pipeline(transaction=False) as pipe:
            for key in keys_needed:
                pipe.get(keys.conversation(key))
            for key in keys_needed:
                pipe.incrby(keys.rate(key, now_minute), counts[key])
                pipe.expire(keys.rate(key, now_minute), 120)
            got = pipe.execute()
        states = dict(zip(keys_needed, got[:len(keys_needed)]))
        totals = got[len(keys_needed)::2]
        rates = {key: total - counts[key] + 1 for key, total in zip(keys_needed, totals)}  # the first message's count
        return states, rates

    def _write_history(self, processed: list[Processed]) -> None:
        """All rows in one insert (ids are derived from the messages: a re-run writes nothing twice),
        and each moved conversation's record once, with its latest state."""
        store = self.rt.store
        rows = [row for p in processed for row in p.rows]
        if rows:
            store.messages.record(rows)
        latest = {p.touch["key"]: p.touch for p in processed if p.touch}  # the batch's last state wins
        for key, touch in latest.items():
            store.conversations.touch(key, **{k: v for k, v in touch.items() if k != "key"})

    def _finish(self, pipe, processed, parks, identities, conv_keys, locked, out, token) -> None:
        """What follows the commits in the same round trip: parks (their answers come right after the
        commits'), charts, unlocks, releases."""
        for identity, raw, reason in parks:
            self.rt.mailboxes.park_into(pipe, identity, token, raw, reason)
        for p in processed:
            activity.record_turn_into(pipe, **p.activity)
        for key in {conv_keys[i] for i in identities if i in conv_keys and locked.get(conv_keys[i])}:
            self.rt.mailboxes.unlock_into(pipe, key, token)
        for identity in identities:
            self.rt.mailboxes.release_into(pipe, identity, token, out[identity].retry_ms)

    def _after_commit(self, processed, statuses, parks, parked, out) -> None:
        lost = {p.identity for p, status in zip(processed, statuses) if status != 1}
        for identity in lost:
            log.warning("commit refused (claim lost) identity=%s", mask(identity))
            out[identity].processed = sum(1 for p, s in zip(processed, statuses) if p.identity == identity and s == 1)
        if any(p.commit.outbound for p, s in zip(processed, statuses) if s == 1):
            queues.kick_outbound(self.rt.redis)
        for (_, raw, reason), status in zip(parks, parked):
            if int(status) == 1:
                msg = json.loads(raw)
                log.error("parked message=%s: %s", msg["message_id"], reason)
                apologise(self.rt, msg)
