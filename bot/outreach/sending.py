"""Sending a message the shop sends first: a control message into the customer's own mailbox, now,
or when quiet hours end.

A job's id is its control message's id, so ingress accepts it once however often it is sent
(two sweepers, a retried request): the dedupe key of its (channel, id). A deferred job waits in
a sorted set (id -> when) beside its JSON; the maintenance sweep takes each due one with a ZREM,
which only one caller wins.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, cast

from bot.common import redis_keys
from bot.common.phones import mask
from bot.outreach.quiet import QuietHours
from bot.pipeline import InboundMessage

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.outreach")

UNREACHABLE = ("voice", "console")  # nothing can be pushed to a phone call or the console
SENT, DEFERRED, DUPLICATE, UNREACHED = "sent", "deferred", "duplicate", "unreachable"


@dataclass
class Job:
    id: str  # the control message's id (no phone number in it)
    kind: str  # statemachine.outreach.KINDS
    identity: str  # "<channel>:<address>": where the customer hears it
    phone: str  # the customer: their conversation is "phone:<phone>"
    meta: dict = field(default_factory=dict)  # what the conversation needs; "template"/"variables" for WhatsApp


def send(rt: Runtime, job: Job, now: float | None = None) -> str:
    """Now, or at the end of quiet hours; 'sent', 'deferred', 'duplicate' or 'unreachable'."""
    now = time.time() if now is None else now
    channel = job.identity.partition(":")[0]
    if channel in UNREACHABLE:
        rt.redis.hincrby(redis_keys.STATS, f"outreach_skipped:{job.kind}:no_channel", 1)
        return UNREACHED
    quiet = QuietHours.of(rt)
    if quiet and quiet.active(now):
        defer(rt, job, quiet.ends(now))
        return DEFERRED
    return dispatch(rt, job)


def dispatch(rt: Runtime, job: Job) -> str:
    """Into the customer's mailbox (an opted-out SMS number refuses it, as it refuses anything)."""
    channel, _, address = job.identity.partition(":")
    accepted = rt.ingress.accept(
        InboundMessage(channel=channel, message_id=job.id, address=address, text="", contact=job.phone,
                       kind=job.kind, meta=job.meta),
        refused_set=redis_keys.SMS_OPTED_OUT if channel == "sms" else None)
    log.info("outreach %s %s to=%s", job.kind, "queued" if accepted else "not queued (sent before, or opted out)",
             mask(job.identity))
    return SENT if accepted else DUPLICATE


def defer(rt: Runtime, job: Job, at: float) -> None:
    with rt.redis.pipeline() as pipe:
        pipe.hsetnx(redis_keys.OUTREACH_JOBS, job.id, json.dumps(asdict(job)))
        pipe.zadd(redis_keys.OUTREACH_DUE, {job.id: at}, nx=True)
        pipe.hincrby(redis_keys.STATS, f"outreach_deferred:{job.kind}", 1)
        pipe.execute()


def later(rt: Runtime, turn, kind: str, meta: dict, seconds: float) -> None:
    """The conversation asked to send this again later (the customer was busy): the same identity."""
    job = Job(id=f"{turn.message_id}-later", kind=kind, identity=turn.identity, phone=turn.contact or "", meta=meta)
    defer(rt, job, turn.now + seconds)


def run_due(rt: Runtime, now: float | None = None, limit: int = 100) -> int:
    """Send the deferred jobs whose time came (none in quiet hours); each by one caller only."""
    now = time.time() if now is None else now
    quiet = QuietHours.of(rt)
    if quiet and quiet.active(now):
        return 0
    sent = 0
    for raw_id in cast("list[bytes]", rt.redis.zrangebyscore(redis_keys.OUTREACH_DUE, "-inf", now, start=0, num=limit)):
        if not rt.redis.zrem(redis_keys.OUTREACH_DUE, raw_id):
            continue  # another sweeper took it
        raw = rt.redis.hget(redis_keys.OUTREACH_JOBS, raw_id)
        rt.redis.hdel(redis_keys.OUTREACH_JOBS, raw_id)
        if raw:
            sent += dispatch(rt, Job(**json.loads(raw))) == SENT
    return sent


def waiting(rt: Runtime) -> int:
    return int(rt.redis.zcard(redis_keys.OUTREACH_DUE))
