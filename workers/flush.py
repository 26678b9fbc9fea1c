"""Group commit: lanes that are ready to write at the same moment share one history insert and one
Redis round trip; a lane alone writes alone, at once.

Why: a lane per conversation commits as soon as its customer's messages are done (a slow model
never holds back a ready reply), but writing each lane separately costs a store insert and a
round trip per lane. The first lane to arrive leads: it writes everything queued so far while
the others wait, then hands the lead to whoever queued meanwhile. No timer, no extra thread.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.operations import activity
from bot.outreach import carts
from bot.pipeline import Commit, Parked, keys, queues
from workers.step import Processed

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(eq=False)
class Flush:
    """What one lane writes: processed messages (history, then commits), parks, then what it lets go."""

    processed: list[tuple[Processed, Commit]] = field(default_factory=list)
    parks: list[tuple[str, str, str, Parked, tuple[str, str, str]]] = field(default_factory=list)
    unlocks: list[tuple[str, str]] = field(default_factory=list)  # (conversation key, token)
    releases: list[tuple[str, str, int]] = field(default_factory=list)  # (tag, token, due again in ms)
    statuses: list[Any] = field(default_factory=list)  # each commit's answer (a list), then each park's (1, 0, -1)
    error: BaseException | None = None
    lead: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    def outcome(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.statuses


class GroupCommit:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self._lock = threading.Lock()
        self._queue: list[Flush] = []
        self._busy = False

    def submit(self, flush: Flush) -> list[Any]:
        """Write `flush` (with whatever else is queued); returns its commits' then parks' answers."""
        with self._lock:
            self._queue.append(flush)
            leader = not self._busy
            self._busy = True
        if not leader:
            flush.done.wait()
            if not flush.lead:
                return flush.outcome()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._write(batch)
        finally:  # even a dying thread hands the lead on, or every lane would wait forever
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].done.set()
                else:
                    self._busy = False
            for f in batch:
                f.done.set()
        return flush.outcome()

    def _write(self, batch: list[Flush]) -> None:
        try:
            self._history(batch)
        except Exception as exc:  # the store is away: those with history write nothing (their lanes let go
            for f in batch:      # after a pause); the rest still go ahead
                if f.processed:
                    f.error, f.processed, f.parks, f.unlocks, f.releases = exc, [], [], [], []
        try:
            self._redis(batch)
            self.rt.replicas.wait()  # replies leave only once a replica holds the commits that made them
        except Exception as exc:
            for f in batch:
                f.error = f.error or exc
        for f in batch:
            f.lead = False

    def _history(self, batch: list[Flush]) -> None:
        """All rows in one insert (ids derived from the messages: a re-run writes nothing twice), and
        each moved conversation's record once, with its latest state."""
        processed = [p for f in batch for p, _ in f.processed]
        rows = [row for p in processed for row in p.rows]
        if rows:
            self.rt.store.messages.record(rows)
        for p in processed:  # an identity that just proved a number: what it wrote before is that number's
            if p.link_phone not in ("", "-"):
                self.rt.store.messages.claim(p.msg.identity, p.link_phone)
        latest = {p.touch["key"]: p.touch for p in processed if p.touch}
        for key, touch in latest.items():
            self.rt.store.conversations.touch(key, **{k: v for k, v in touch.items() if k != "key"})

    def _redis(self, batch: list[Flush]) -> None:
        mailboxes, outbound = self.rt.mailboxes, False
        positions: list[list[int]] = []  # where each flush's commit and park answers are
        with self.rt.redis.pipeline(transaction=False) as pipe:
            for f in batch:
                mine = []
                for p, commit in f.processed:
                    mine.append(len(pipe))
                    mailboxes.commit_into(pipe, commit)
                    outbound = outbound or bool(p.routed.outbound)
                for tag, token, head, parked, apology in f.parks:
                    mine.append(len(pipe))
                    mailboxes.park_into(pipe, tag, token, head, parked, apology)
                positions.append(mine)
            for f in batch:
                for p, _ in f.processed:
                    activity.record_turn_into(pipe, **p.activity)
                    carts.track_into(pipe, p.cart)
                for conv_key, token in f.unlocks:
                    mailboxes.unlock_into(pipe, conv_key, token)
                for tag, token, retry_ms in f.releases:
                    mailboxes.release_into(pipe, tag, token, retry_ms)
            if outbound:
                pipe.set(keys.KICK_OUTBOUND, "1", nx=True, ex=queues.KICK_TTL)
            answers = pipe.execute()
        if outbound and answers[-1]:
            queues.kick_outbound(self.rt.redis, force=True)
        for f, mine in zip(batch, positions, strict=True):
            f.statuses = [answers[i] for i in mine]
