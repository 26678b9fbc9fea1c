"""The RQ queues and the 'kick': how a producer makes sure a drain or delivery job will run soon.

Producers never enqueue one job per message. A message goes to a mailbox (a reply to an outbox);
a job is enqueued only when none is waiting (a short-lived 'kick' key says one is), so N messages
cost one job while workers are busy, and an idle system still starts within milliseconds.
"""
from __future__ import annotations

from redis import Redis
from rq import Queue

from bot.pipeline import keys

MESSAGES = "messages"
OUTBOUND = "outbound"
MAINTENANCE = "maintenance"
KICK_TTL = 30  # seconds: after this a lost kick stops blocking new ones
JOB_TIMEOUT = 180  # RQ's limit for one job; a job's own budget is far below it


def queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis)


def kick_messages(redis: Redis, already_claimed: bool = False) -> None:
    """Make sure a drain job is queued. `already_claimed`: the caller set the kick key itself."""
    if already_claimed or redis.set(keys.KICK_MESSAGES, "1", nx=True, ex=KICK_TTL):
        queue(redis, MESSAGES).enqueue("workers.jobs.drain_messages", job_timeout=JOB_TIMEOUT, result_ttl=0,
                                       failure_ttl=7 * 86400)


def kick_outbound(redis: Redis, force: bool = False) -> None:
    """Make sure a delivery job is queued."""
    if redis.set(keys.KICK_OUTBOUND, "1", nx=True, ex=KICK_TTL) or force:
        queue(redis, OUTBOUND).enqueue("workers.jobs.deliver", job_timeout=JOB_TIMEOUT, result_ttl=0,
                                       failure_ttl=7 * 86400)
