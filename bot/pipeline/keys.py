"""Every Redis key on the message path, named in one place.

Keys of one sender identity share the hash tag `{i.<digest>}` and keys of one conversation the
tag `{c.<digest>}`, so each group lives in one cluster slot; the digest (not the phone number or
chat id) is what names them, so no key name holds a phone number. Shared structures (the ready
sets, dead letters, counters) have plain names.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.common.redis_keys import STATS as STATS  # re-exported: every commit counts in it
from bot.common.redis_keys import P, digest

READY = P + "ready"  # zset: identity tag -> when its mailbox may next be drained (ms)
OUT_READY = P + "outready"  # zset: recipient tag -> when its outbox may next be sent (ms)
DEAD = P + "dead"  # hash: dead-letter id -> entry JSON
DEAD_INDEX = P + "dead:index"  # zset: dead-letter id -> when it was parked (s)
KICK_MESSAGES = P + "kick:messages"  # set while a drain job waits in the queue
KICK_OUTBOUND = P + "kick:outbound"  # set while a delivery job waits in the queue


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    """The keys of one sender identity ("<channel>:<address>"): its inbound mailbox and its outbox."""

    tag: str

    @property
    def mailbox(self) -> str:  # list of accepted messages, oldest first
        return f"{P}{{i.{self.tag}}}:mbox"

    @property
    def claim(self) -> str:  # hash {token, until, crash_head, crashes}: who drains the mailbox
        return f"{P}{{i.{self.tag}}}:claim"

    @property
    def link(self) -> str:  # the verified phone this identity belongs to
        return f"{P}{{i.{self.tag}}}:link"

    @property
    def outbox(self) -> str:  # list of replies to send to this identity, in commit order
        return f"{P}{{i.{self.tag}}}:out"

    @property
    def outclaim(self) -> str:  # hash {token, until, ...}: who sends the outbox
        return f"{P}{{i.{self.tag}}}:outclaim"

    @property
    def notices(self) -> str:  # hash: notice id -> JSON, for synchronous channels
        return f"{P}{{i.{self.tag}}}:notices"

    @property
    def seen(self) -> str:  # string: when this identity last wrote (ms), for WhatsApp's 24-hour window
        return f"{P}{{i.{self.tag}}}:seen"


@dataclass(frozen=True, slots=True)
class ConversationKeys:
    """The keys of one conversation ("phone:+1..." or "id:<identity>")."""

    tag: str

    @property
    def state(self) -> str:  # the conversation's JSON, with a TTL
        return f"{P}{{c.{self.tag}}}:state"

    @property
    def lock(self) -> str:  # string token, PX lease: the one lane working on it
        return f"{P}{{c.{self.tag}}}:lock"

    def rate(self, minute: int) -> str:  # messages in this clock minute (the per-customer rate limit)
        return f"{P}{{c.{self.tag}}}:rate:{minute}"


def identity(name: str) -> IdentityKeys:
    return IdentityKeys(digest(name))


def tagged(tag: str) -> IdentityKeys:
    return IdentityKeys(tag)


def conversation(conv_key: str) -> ConversationKeys:
    return ConversationKeys(digest(conv_key))


def dedupe(channel: str, message_id: str) -> str:
    return f"{P}dedupe:{channel}:{message_id}"


def reply(message_id: str) -> str:
    """A synchronous caller's reply slot (JSON), read by the request that waits for it."""
    return f"{P}reply:{message_id}"


def reply_ready(message_id: str) -> str:
    """A list the waiting request BLPOPs: pushed once the reply slot is written."""
    return f"{P}reply:ready:{message_id}"


def failures(channel: str, message_id: str) -> str:
    """hash {count, first}: this message's failed attempts (decides retry or park)."""
    return f"{P}failures:{channel}:{message_id}"
