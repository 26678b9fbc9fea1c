"""Scheduled upkeep: re-kick drains after a crash, move due send retries, finish interrupted cancels.

`sweep` reschedules itself through RQ's scheduler (a worker started with the scheduler); a guard
key keeps exactly one chain alive however many workers start it.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from bot import keys, queues

from . import context, retention
from .outbound import Delivery, kick_if_pending

log = logging.getLogger("orderline.maintenance")

SWEEP_EVERY = 5  # seconds


def sweep() -> dict:
    """RQ job: the periodic safety net, then the next one is scheduled."""
    rt = context.runtime()
    try:
        return sweep_once(rt)
    finally:
        rt.redis.delete(keys.SWEEP_SCHEDULED)
        schedule(rt.redis)
        retention.schedule(rt.redis)  # a no-op while the next daily run is scheduled


def sweep_once(rt) -> dict:
    """Cheap when there is nothing to do."""
    done = {"requeued": Delivery(rt).requeue_due(), "kicked": False}
    if rt.mailboxes.due_count():
        queues.kick_messages(rt.redis)
        done["kicked"] = True
    kick_if_pending(rt.redis)
    done["restocked"] = finish_cancellations(rt)
    return done


def schedule(redis, delay: float = SWEEP_EVERY) -> bool:
    """Queue the next sweep unless one is already scheduled."""
    if not redis.set(keys.SWEEP_SCHEDULED, "1", nx=True, ex=int(delay * 6)):
        return False
    queues.queue(redis, queues.MAINTENANCE).enqueue_in(timedelta(seconds=delay), "workers.maintenance.sweep",
                                                       result_ttl=0, failure_ttl=86400)
    return True


def finish_cancellations(rt, older_than: float = 60) -> int:
    """Orders cancelled by a job that died before putting the stock back: put it back now."""
    stuck = rt.store.orders.find({"status": "cancelled", "restocked": False, "updated_at": {"$lt": time.time() - older_than}})
    for order in stuck:
        rt.store.orders.cancel(order["_id"], by="maintenance")
    return len(stuck)
