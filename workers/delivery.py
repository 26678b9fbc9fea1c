"""Delivery: send each recipient's outbox, in order, one reply at a time.

A recipient's outbox is a leased queue (bot/pipeline/outbox.py): whoever holds it sends its head,
then pops it; the heartbeat keeps the lease while a slow provider answers, so nobody else sends
the same reply meanwhile. A long reply split into parts records each part sent, so a retry
resumes at the first unsent one. Transient failures (a provider's 5xx or 429, a timeout) wait
with backoff, holding the recipient's later replies behind them, for the retry window; a
permanent one, or the window's end, parks the reply with its reason and the next one goes on.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from concurrent.futures import Future, wait
from typing import TYPE_CHECKING, Any

from bot.common import logs
from bot.common.errors import PermanentSendError, TransientSendError
from bot.common.phones import mask
from bot.pipeline import Claimed, OutboundMessage, deadletters, encode, keys
from bot.pipeline.messages import message_id_of
from workers.lane import new_token

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.outbound")

BACKOFF_SECONDS = (2, 5, 15, 60, 300)  # then every 900 s, until the retry window closes
SEND_BUDGET = 60.0  # seconds one send may take before its lease is let go (senders time out far sooner)
MAX_CLAIM = 16


class LeaseLost(Exception):
    """Another worker holds this outbox now: stop sending from it."""


class Delivery:
    def __init__(self, rt: Runtime, heartbeat: Any, pool: Any = None):
        self.rt, self.heartbeat, self.pool = rt, heartbeat, pool
        self.outbox = rt.outbox
        self.retry_window = rt.settings.RETRY_WINDOW_SECONDS

    def run(self, budget_seconds: float = 10.0) -> int:
        """Claim due outboxes and send them, side by side in the lane pool, until none is due."""
        self.rt.redis.delete(keys.KICK_OUTBOUND)
        deadline, sent = time.monotonic() + budget_seconds, 0
        while time.monotonic() < deadline:
            room = self.pool.free() if self.pool is not None else MAX_CLAIM
            token = new_token()
            claimed, _ = self.outbox.queues.claim(token, max(1, min(room, MAX_CLAIM)), share=1)
            if not claimed:
                break
            if self.pool is None:
                sent += sum(self.send_outbox(c, token) for c in claimed)
                continue
            futures: list[Future] = [self.pool.submit(lambda c=c, t=token: self.send_outbox(c, t)) for c in claimed]
            done, _ = wait(futures)
            sent += sum(f.result() for f in done if f.exception() is None)
        return sent

    def send_claimed(self, heads: dict[str, str], token: str) -> int:
        """Send outboxes a lane's commit claimed for it (tag -> head), right away, in this thread: no
        queue hop between a committed reply and its send."""
        return sum(self.send_outbox(Claimed(tag, 0, head), token) for tag, head in heads.items())

    def send_outbox(self, claimed: Claimed, token: str) -> int:
        """Send from one claimed outbox until it is empty, waiting, or lost. Returns replies sent."""
        tag, sent, held = claimed.tag, 0, True
        head: str | None = claimed.head
        k = keys.tagged(tag)
        hold = self.heartbeat.hold([(k.outclaim, token)], [], SEND_BUDGET, on_overrun=lambda h: None)
        try:
            self.rt.replicas.wait()  # what queued these replies, and this claim, survive losing the primary
            while head is not None:
                try:
                    message = OutboundMessage.from_dict(json.loads(head))
                except (ValueError, TypeError, KeyError):
                    head = self._park(tag, token, head, deadletters.undecodable(head, "outbound", tag, "not a reply"),
                                      "dead_letters:undecodable")
                    continue
                with logs.about(message_id_of(message.reply_id)):
                    head, ok, held = self._send(tag, token, head, message, hold)
                sent += ok
            if held:
                self.outbox.queues.release(tag, token, 0)
        except LeaseLost:
            log.warning("outbox lease lost; another worker goes on")
        finally:
            self.heartbeat.drop(hold)
        return sent

    def _send(self, tag: str, token: str, head: str, message: OutboundMessage,
              hold: Any) -> tuple[str | None, int, bool]:
        """Send one reply; returns (the next head to send or None to stop, 1 if it was sent, whether
        the lease is still ours to release)."""
        sender = self.rt.sender(message.channel)
        current = {"head": head}

        def part_sent(n: int) -> None:
            """The sender finished part n-1: record it, so a retry starts at part n."""
            new = encode({**json.loads(current["head"]), "parts_sent": n})
            status, _ = self.outbox.advance(tag, token, current["head"], new)
            if status != 1:
                raise LeaseLost()
            current["head"] = new

        try:
            if sender is None:
                raise PermanentSendError(f"no sender configured for channel {message.channel!r}")
            with hold.step(message):
                sender.send(message, part_sent)
        except TransientSendError as exc:
            self._retry(tag, token, current["head"], exc)
            return None, 0, False
        except PermanentSendError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            return self._park(tag, token, current["head"], deadletters.outbound(message, reason),
                              "dead_letters:outbound"), 0, True
        status, nxt = self.outbox.advance(tag, token, current["head"], "", f"sent:{message.channel}")
        if status != 1:
            raise LeaseLost()
        self.rt.replicas.wait()  # the pop survives a failover: a reply is not sent twice (or the next before it)
        log.info("sent channel=%s to=%s", message.channel, mask(message.address))
        return nxt, 1, nxt is not None

    def _retry(self, tag: str, token: str, head: str, exc: TransientSendError) -> None:
        """Wait before trying this reply again (the recipient's later replies wait behind it)."""
        message = OutboundMessage.from_dict(json.loads(head))
        now = time.time()
        first = message.first_failed_at or now
        if now - first >= self.retry_window:
            reason = f"gave up after {message.attempt + 1} attempts over {now - first:.0f} s: {exc}"
            self._park(tag, token, head, deadletters.outbound(message, reason), "dead_letters:outbound")
            self.outbox.queues.release(tag, token, 0)  # the next reply goes on, in its turn
            return None
        delay = max(BACKOFF_SECONDS[message.attempt] if message.attempt < len(BACKOFF_SECONDS) else 900,
                    exc.retry_after or 0)
        again = dataclasses.replace(message, attempt=message.attempt + 1, first_failed_at=first)
        status, _ = self.outbox.advance(tag, token, head, encode(again.to_dict()))
        if status == 1:
            self.outbox.queues.release(tag, token, int(delay * 1000))
        log.warning("send failed, retry in %ss channel=%s to=%s: %s", delay, message.channel, mask(message.address),
                    exc)
        return None

    def _park(self, tag: str, token: str, head: str, parked: deadletters.Parked, counter: str) -> str | None:
        """Park the head; returns the next one (None: stop)."""
        if self.outbox.park(tag, token, head, parked.id, parked.entry, counter) != 1:
            raise LeaseLost()
        log.error("reply parked: %s", json.loads(parked.entry)["reason"])
        return self.outbox.head(tag)


def pending(rt: Runtime) -> int:
    return rt.outbox.pending()
