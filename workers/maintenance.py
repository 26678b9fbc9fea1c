"""Periodic upkeep: re-kick drains after a crash, move due send retries, finish interrupted cancels.

Every worker process runs a `Maintainer` thread; a Redis lock lets one of them sweep per interval.
Why not RQ's scheduler: it is a forked process that dies with a Redis connection error and is
restarted only by RQ's 10-minute maintenance pass, and this is the net that must survive outages.
"""
from __future__ import annotations

import logging
import threading
import time

from bot import keys, queues
from bot.payments import expiry as payment_expiry

from . import retention
from .outbound import Delivery, pending

log = logging.getLogger("orderline.maintenance")

SWEEP_EVERY = 5  # seconds between full sweeps (one process per interval)
TICK = 0.5  # seconds between checks for due retries (every process; two cheap reads)


def kick_due(rt) -> bool:
    """Mailboxes due (a retry's delay ran out, a dead worker's lease expired) and no drain job
    waiting: queue one. This is what wakes delayed retries, so it runs every TICK."""
    if rt.mailboxes.due_count() and not queues.queue(rt.redis, queues.MESSAGES).count:
        queues.kick_messages(rt.redis, already_claimed=True)
        return True
    return False


def sweep_once(rt) -> dict:
    """Cheap when there is nothing to do."""
    done = {"requeued": Delivery(rt).requeue_due(), "kicked": kick_due(rt)}
    if pending(rt.redis) and not queues.queue(rt.redis, queues.OUTBOUND).count:
        queues.kick_outbound(rt.redis, force=True)
    done["restocked"] = finish_cancellations(rt)
    done["payments_swept"] = payment_expiry.sweep_in_background(rt)  # its own thread: Stripe may be slow
    retention.schedule(rt.redis)  # a no-op while the next daily run is scheduled
    return done


def sweep_if_due(rt) -> dict | None:
    """Sweep unless another process swept in the last interval."""
    if not rt.redis.set(keys.SWEEP_LOCK, "1", nx=True, px=int(SWEEP_EVERY * 1000)):
        return None
    return sweep_once(rt)


class Maintainer:
    """A daemon thread: kick_due every TICK, a full sweep every SWEEP_EVERY (by one process), and
    it outlives Redis or MongoDB outages."""

    def __init__(self, rt, tick: float = TICK):
        self.rt, self.tick = rt, tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orderline-maintenance", daemon=True)

    def start(self) -> "Maintainer":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                sweep_if_due(self.rt) or kick_due(self.rt)
            except Exception:  # Redis or MongoDB down: log, keep the thread, try next interval
                log.exception("maintenance sweep failed")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def finish_cancellations(rt, older_than: float = 60) -> int:
    """Orders cancelled by a job that died before putting the stock back: put it back now."""
    stuck = rt.store.orders.find({"status": "cancelled", "restocked": False, "updated_at": {"$lt": time.time() - older_than}})
    for order in stuck:
        rt.store.orders.cancel(order["_id"], by="maintenance")
    return len(stuck)
