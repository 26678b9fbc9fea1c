"""Redis keys outside the message path (whose keys are bot/pipeline/keys.py), named in one place so
no two modules invent the same one; and `digest`, which names a person's keys without naming them."""
from __future__ import annotations

import hashlib

P = "ol:"

STATS = P + "stats"  # hash of counters shared by every process (written by the pipeline's commits too)


def digest(name: str) -> str:
    """A short stable digest: names keys without naming the person."""
    return hashlib.sha256(("orderline:" + name).encode()).hexdigest()[:20]

CATALOG_VERSION = P + "catalog:version"
DEV_OUTBOX = P + "dev:outbox"  # the embedded default's SMS: codes land here for the console


# One-time codes (bot/customers/codes.py). Named by a digest, never by the phone number or the sender.
def otp_lock(phone: str) -> str:
    """Set (with the lock-out as TTL) after too many wrong codes for this number."""
    return f"{P}otp:lock:{digest(phone)}"


def otp_sends(phone: str) -> str:
    """Codes sent to this number in the current window (TTL: the window)."""
    return f"{P}otp:sends:{digest(phone)}"


def otp_asks(identity: str) -> str:
    """Codes this sender identity asked for in the current window, whatever the numbers."""
    return f"{P}otp:asks:{digest(identity)}"


def otp_budget(hour: int) -> str:
    """Codes the whole shop sent in this clock hour."""
    return f"{P}otp:budget:{hour}"


SWEEP_LOCK = P + "sweep:lock"  # held by the process sweeping this interval

# -- the operators' side ---------------------------------------------------------------------
STARTED_AT = P + "started_at"  # when the first process started against this Redis (stats' uptime)
ACTIVE = P + "conv:active"  # zset: conversation key -> its last turn (s); active = within the idle timeout
HANDOFF = P + "handoff"  # zset: handoff id (a digest of the conversation key) -> when it asked for a person
HANDOFF_INFO = P + "handoff:info"  # hash: handoff id -> JSON {id, key, identity, channel, address, phone, ...}
WORKERS_ALIVE = P + "workers:alive"  # zset: worker process -> until when its last beat vouches for it (s)
RETENTION_SCHEDULED = P + "retention:scheduled"  # guard: one retention chain scheduled at a time


def series(granularity: str, bucket: int) -> str:
    """Time-bucketed counters for the dashboard's charts: granularity 'm' (minute) or 'h' (hour)."""
    return f"{P}ts:{granularity}:{bucket}"


# Messages the shop sends first (bot/outreach)
CARTS = P + "carts"  # zset: conversation key -> when its customer last touched the cart (s)
CARTS_INFO = P + "carts:info"  # hash: conversation key -> JSON {identity, phone, at, items}
OUTREACH_DUE = P + "outreach:due"  # zset: job id -> when it may go (after quiet hours, or later)
OUTREACH_JOBS = P + "outreach:jobs"  # hash: job id -> JSON job

# Language understanding (bot/nlu). `who` is a hash of the conversation key, never a phone number.
NLU_BREAKER_FAILURES = P + "nlu:breaker:failures"  # model failures in a row, shared by every process
NLU_BREAKER_OPEN = P + "nlu:breaker:open"  # set (with the cool-down as TTL) while nobody may call the model
NLU_BREAKER_TRIPPED = P + "nlu:breaker:tripped"  # set once opened, until a probe succeeds (half-open)
NLU_BREAKER_PROBE = P + "nlu:breaker:probe"  # the one process probing a half-open breaker
NLU_CONFIG_ERROR = P + "nlu:config_error"  # the last request the model API refused (JSON), for operators
NLU_MODEL_CHECK = P + "nlu:model_check"  # the last `doctor`-style check of key and model (JSON), for /readyz


def nlu_cap(who: str, minute: int) -> str:
    """Model calls this customer made in this minute (per-customer cap)."""
    return f"{P}nlu:cap:{who}:{minute}"


def nlu_cache(digest: str) -> str:
    """A validated reading of an identical prompt (recent turns and candidates included), kept for
    GEMINI_CACHE_SECONDS."""
    return f"{P}nlu:cache:{digest}"


def nlu_translation(digest: str) -> str:
    """A checked translation of one reply line (numbers, name and address held out) into one
    language, kept for GEMINI_CACHE_SECONDS."""
    return f"{P}nlu:tcache:{digest}"


def nlu_language(who: str) -> str:
    """The language this customer last wrote in, so replies to "2" or a code stay in it."""
    return f"{P}nlu:lang:{who}"


# Channels
SMS_OPTED_OUT = P + "sms:optout"  # set of E.164 numbers that texted STOP: never messaged until START
TELEGRAM_BLOCKED = P + "telegram:blocked"  # set of chat ids that blocked the bot: sends are not attempted


def call(call_sid: str) -> str:
    """hash: one phone call's state (the last thing said, for a reprompt); deleted when the call ends."""
    return f"{P}call:{call_sid}"
