"""The retention job: message history older than RETENTION_DAYS is deleted, once a day.

Scheduled with RQ's own scheduling (`enqueue_at`, run by the worker that holds RQ's scheduler
lock). Exactly one run per day however many workers or sweeps ask: each day's run has a job id
naming its day, so asking twice schedules the same entry of RQ's scheduled registry (one member
per id), and each run schedules the next day's. A guard key per day keeps the periodic sweep,
which re-asks every few seconds, from rewriting that entry again and again.
"""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from redis import Redis

from bot.common import redis_keys
from bot.pipeline import queues

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.retention")

RUN_AT_UTC_HOUR = 3  # a quiet hour for most shops


def purge(rt: Runtime, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    cutoff = now - rt.settings.RETENTION_DAYS * 86400
    deleted = rt.store.messages.delete_older_than(cutoff)
    if deleted:
        rt.redis.hincrby(redis_keys.STATS, "messages_expired", deleted)
    log.info("retention: deleted %d messages older than %d days", deleted, rt.settings.RETENTION_DAYS)
    return {"deleted": deleted, "cutoff": cutoff}


def next_run(after: float) -> datetime:
    at = datetime.fromtimestamp(after, tz=UTC).replace(hour=RUN_AT_UTC_HOUR, minute=0, second=0,
                                                                microsecond=0)
    return at if at.timestamp() > after else at + timedelta(days=1)


def schedule(redis: Redis, after: float | None = None) -> str | None:
    """Make sure the next daily run is scheduled; returns its job id if this call scheduled it."""
    run_at = next_run(time.time() if after is None else after)
    job_id = "retention-" + run_at.strftime("%Y%m%d")
    if not redis.set(f"{redis_keys.RETENTION_SCHEDULED}:{job_id}", "1", nx=True, ex=3 * 86400):
        return None
    queues.queue(redis, queues.MAINTENANCE).enqueue_at(run_at, "workers.jobs.purge_history", job_id=job_id,
                                                       result_ttl=0, failure_ttl=7 * 86400)
    return job_id
