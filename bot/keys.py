"""Every Redis key Orderline uses, named in one place so no two modules invent the same one."""
from __future__ import annotations

P = "ol:"

READY = P + "ready"  # zset: identity -> when its mailbox may next be drained (ms)
OUTBOUND = P + "outbound"  # stream of replies to send on asynchronous channels
OUTBOUND_RETRY = P + "outbound:retry"  # zset: payload -> when to try sending again
DEAD_LETTERS = P + "deadletters"  # list of JSON {reason, payload, at}: work an operator must see
STATS = P + "stats"  # hash of counters shared by every process
KICK_MESSAGES = P + "kick:messages"  # set while a drain job waits in the queue
KICK_OUTBOUND = P + "kick:outbound"
CATALOG_VERSION = P + "catalog:version"
DEV_OUTBOX = P + "dev:outbox"  # the embedded default's SMS: codes land here for the console


def dedupe(channel: str, message_id: str) -> str:
    return f"{P}dedupe:{channel}:{message_id}"


def mailbox(identity: str) -> str:
    return f"{P}mbox:{identity}"


def claim(identity: str) -> str:
    return f"{P}claim:{identity}"


CLAIM_PREFIX = P + "claim:"


def conversation(conv_key: str) -> str:
    return f"{P}conv:{conv_key}"


def conv_lock(conv_key: str) -> str:
    return f"{P}convlock:{conv_key}"


def link(identity: str) -> str:
    """identity -> verified phone, so a Telegram chat or API user finds its customer again."""
    return f"{P}link:{identity}"


def reply(message_id: str) -> str:
    return f"{P}reply:{message_id}"


def reply_ready(message_id: str) -> str:
    return f"{P}reply:ready:{message_id}"


def otp_lock(phone: str) -> str:
    return f"{P}otp:lock:{phone}"


def otp_sends(phone: str) -> str:
    return f"{P}otp:sends:{phone}"


def attempts(channel: str, message_id: str) -> str:
    """How many times processing this message failed (decides retry or park)."""
    return f"{P}attempts:{channel}:{message_id}"


SWEEP_SCHEDULED = P + "sweep:scheduled"


# Channels
SMS_OPTED_OUT = P + "sms:optout"  # set of E.164 numbers that texted STOP: never messaged until START
TELEGRAM_BLOCKED = P + "telegram:blocked"  # set of chat ids that blocked the bot: sends are not attempted


def call(call_sid: str) -> str:
    """hash: one phone call's state (the last thing said, for a reprompt); deleted when the call ends."""
    return f"{P}call:{call_sid}"
