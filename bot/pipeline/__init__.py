"""The message path: every Redis format and script a message touches between its webhook and its
reply, owned here and nowhere else.

    Ingress       channels accept messages (dedupe, mailbox, kick)
    Mailboxes     workers claim mailboxes, open lanes, commit, park, release
    Outbox        the one writer of replies: reply slots and per-recipient outboxes
    DeadLetters   what could not be done, for operators, and its retry
    Heartbeat     a worker's lease renewal and step watchdog
    Replicas      the wait for Redis replicas that lets an accepted message or a sent reply survive a failover
    notices, queues, keys, messages: notices for synchronous channels, RQ kicks, key names, shapes
    seen          when each identity last wrote (written by accept.lua), for WhatsApp's 24-hour window
"""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from bot.pipeline import keys, notices, queues, seen
from bot.pipeline.deadletters import DeadLetters, Kind, NotRetryable, Parked, QueueBusy
from bot.pipeline.heartbeat import Heartbeat, Hold
from bot.pipeline.ingress import Ingress
from bot.pipeline.leases import Claimed, now_ms
from bot.pipeline.mailbox import Commit, Mailboxes, Opened
from bot.pipeline.messages import SYNC_CHANNELS, InboundMessage, OutboundMessage, encode
from bot.pipeline.outbox import Outbox, Routed, route
from bot.pipeline.replication import Replicas
from bot.pipeline.scripts import Scripts


@dataclass
class Pipeline:
    """The pipeline's parts on one Redis client, built once per process."""

    scripts: Scripts
    mailboxes: Mailboxes
    outbox: Outbox
    ingress: Ingress
    deadletters: DeadLetters
    replicas: Replicas


def build(redis: Redis, lease_ms: int, dedupe_ttl: int, replicas: int = 0, replica_timeout_ms: int = 0) -> Pipeline:
    scripts = Scripts(redis)
    outbox = Outbox(redis, scripts, lease_ms)
    waits = Replicas(redis, replicas, replica_timeout_ms)
    return Pipeline(scripts=scripts, mailboxes=Mailboxes(redis, scripts, lease_ms), outbox=outbox,
                    ingress=Ingress(redis, scripts, outbox, dedupe_ttl, waits), deadletters=DeadLetters(redis, scripts),
                    replicas=waits)


__all__ = [
    "Pipeline", "build", "keys", "notices", "queues", "seen",
    "DeadLetters", "Kind", "NotRetryable", "Parked", "QueueBusy",
    "Heartbeat", "Hold", "Ingress", "Claimed", "now_ms", "Commit", "Mailboxes", "Opened", "SYNC_CHANNELS",
    "InboundMessage", "OutboundMessage", "encode", "Outbox", "Routed", "route", "Scripts", "Replicas",
]
