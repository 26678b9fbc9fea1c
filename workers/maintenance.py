"""Periodic upkeep: wake drains and deliveries whose time came (a retry's delay, a dead worker's
lease), trim the dead letters, finish interrupted cancels, send the messages the shop sends first
whose time came (after quiet hours; carts left behind).

Every worker process runs a `Maintainer` thread; a Redis lock lets one of them sweep per interval.
Why not RQ's scheduler: it is a forked process that dies with a Redis connection error and is
restarted only by RQ's 10-minute maintenance pass, and this is the net that must survive outages.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from bot import outreach
from bot.common import redis_keys
from bot.operations import figures
from bot.payments import expiry as payment_expiry
from bot.pipeline import queues
from workers import retention

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.maintenance")

SWEEP_EVERY = 5  # seconds between full sweeps (one process per interval)
TICK = 0.5  # seconds between checks for due work (every process; two cheap reads)


def kick_due(rt: Runtime) -> bool:
    """Mailboxes or outboxes due (a retry's delay ran out, a dead worker's lease expired) and no job
    waiting for them: queue one. This is what wakes delayed retries, so it runs every TICK."""
    kicked = False
    if rt.mailboxes.due_count() and not queues.queue(rt.redis, queues.MESSAGES).count:
        queues.kick_messages(rt.redis, already_claimed=True)
        kicked = True
    if rt.outbox.queues.due_count() and not queues.queue(rt.redis, queues.OUTBOUND).count:
        queues.kick_outbound(rt.redis, force=True)
        kicked = True
    return kicked


def sweep_once(rt: Runtime) -> dict:
    """Cheap when there is nothing to do."""
    s = rt.settings
    done = {"kicked": kick_due(rt),
            "dead_letters_dropped": rt.deadletters.trim(s.DEAD_LETTER_MAX, s.DEAD_LETTER_DAYS * 86400),
            "restocked": finish_cancellations(rt),
            "payments_swept": payment_expiry.sweep_in_background(rt),  # its own thread: Stripe may be slow
            **outreach.sweep(rt)}  # messages the shop sends first: deferred ones due, carts left behind
    retention.schedule(rt.redis)  # a no-op while the next daily run is scheduled
    return done


def sweep_if_due(rt: Runtime) -> dict | None:
    """Sweep unless another process swept in the last interval."""
    if not rt.redis.set(redis_keys.SWEEP_LOCK, "1", nx=True, px=int(SWEEP_EVERY * 1000)):
        return None
    return sweep_once(rt)


class Maintainer:
    """A daemon thread: kick_due every TICK, a full sweep every SWEEP_EVERY (by one process), and
    it outlives Redis or MongoDB outages."""

    def __init__(self, rt: Runtime, tick: float = TICK):
        self.rt, self.tick = rt, tick
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._beat_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orderline-maintenance", daemon=True)

    def start(self) -> Maintainer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self._beat()
                sweep_if_due(self.rt) or kick_due(self.rt)
            except Exception:  # Redis or MongoDB down: log, keep the thread, try next interval
                log.exception("maintenance sweep failed")

    def _beat(self) -> None:
        """This worker process is alive (stats' workers_alive), every WORKER_BEAT_SECONDS."""
        now = time.time()
        if now - self._beat_at >= figures.WORKER_BEAT_SECONDS:
            figures.worker_beat(self.rt.redis, self.worker_id, now)
            self._beat_at = now

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        try:
            figures.worker_gone(self.rt.redis, self.worker_id)
        except Exception:  # Redis away at shutdown: the beat expires on its own
            log.warning("could not withdraw the worker's beat")


def finish_cancellations(rt: Runtime, older_than: float = 60) -> int:
    """Orders cancelled by a job that died before putting the stock back: put it back now."""
    stuck = rt.store.orders.find({"status": "cancelled", "restocked": False,
                                  "updated_at": {"$lt": time.time() - older_than}})
    for order in stuck:
        rt.store.orders.cancel(order["_id"], by="maintenance")
    return len(stuck)
