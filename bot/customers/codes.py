"""One-time codes: who may be sent one, how many, and how they are sent and checked. The one place
for that policy, driven by settings; the conversation (statemachine/identify.py) only asks.

A code costs the shop money (an SMS, or a Twilio Verify check), so before each one:
- the number must be in an allowed country (DEFAULT_REGION, plus OTP_ALLOWED_COUNTRIES) and not of
  a refused type (OTP_REFUSED_NUMBER_TYPES: premium-rate, shared-cost and non-geographic numbers
  by default, as libphonenumber classifies them);
- the sender identity (a Telegram chat, an integrator's user, a call) may ask for at most
  OTP_MAX_SENDS_PER_IDENTITY codes an hour, whatever numbers it types: one identity cannot pump
  SMS to many numbers;
- one number receives at most OTP_MAX_SENDS_PER_NUMBER an hour, whoever asks;
- the whole shop sends at most OTP_HOURLY_BUDGET per clock hour.
The three counts are taken together (one MULTI) and given back when any is over, so none is ever
exceeded, even by requests at the same moment (near a limit, two at once may both be refused).
Each refusal is counted (`codes_refused:<reason>` in the stats) and logged with the number masked.

Backends: `LocalCodes` makes the code here (the conversation keeps only its hash) and texts it
through the shop's SMS sender, marked `redact` so it never reaches a dead letter; Twilio Verify
(TWILIO_VERIFY_SERVICE_SID, channels/twilio_verify.py) sends and checks codes itself. With
neither, typed numbers cannot be verified at all, and start-up says so.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import phonenumbers
from redis import Redis

from bot.common import redis_keys
from bot.common.phones import NUMBER_TYPES, mask
from bot.config import Settings
from bot.pipeline import OutboundMessage
from statemachine.prompts import SMS

log = logging.getLogger("orderline.otp")

WINDOW = 3600  # the per-identity and per-number caps count over this many seconds
NON_GEOGRAPHIC_REGION = "001"  # libphonenumber's region for +800, +808, +870, +878, +881-883, +888, +979
REASONS = ("country", "number_type", "identity_cap", "number_cap", "budget", "rejected", "unavailable")


@dataclass(frozen=True)
class Sent:
    """What became of one request for a code: sent, or refused with one of REASONS."""

    sent: bool
    reason: str | None = None
    outbound: OutboundMessage | None = None  # the SMS to queue with the turn (local codes only)

    def to_result(self) -> dict:
        return {"sent": self.sent, "reason": self.reason}


class Backend(Protocol):
    mode: str  # "local": the conversation checks the code; "provider": the backend checks it

    def send(self, phone: str, code: str, reply_id: str) -> tuple[str | None, OutboundMessage | None]: ...

    def check(self, phone: str, code: str) -> str: ...


class LocalCodes:
    """Codes made by the conversation (it keeps their hash), texted by the shop's SMS sender."""

    mode = "local"

    def __init__(self, settings: Settings):
        self.shop, self.minutes = settings.SHOP_NAME, max(1, settings.OTP_TTL_SECONDS // 60)

    def send(self, phone: str, code: str, reply_id: str) -> tuple[str | None, OutboundMessage | None]:
        text = SMS["code"].format(shop=self.shop, code=code, minutes=self.minutes)
        return None, OutboundMessage(channel="sms", address=phone, reply_id=reply_id, text=text, redact=True)

    def check(self, phone: str, code: str) -> str:  # never asked: the conversation compares hashes
        raise NotImplementedError


def number_refusal(settings: Settings, phone: str) -> str | None:
    """'country' or 'number_type' when codes may not go to this number, else None."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return "country"
    region = phonenumbers.region_code_for_number(number)
    refused = settings.OTP_REFUSED_NUMBER_TYPES
    if region == NON_GEOGRAPHIC_REGION:
        return "number_type" if "non_geographic" in refused else "country"
    if region not in {settings.DEFAULT_REGION, *settings.OTP_ALLOWED_COUNTRIES}:
        return "country"
    kind = phonenumbers.number_type(number)
    if any(kind in NUMBER_TYPES[name] for name in refused):
        return "number_type"
    return None


class Codes:
    """The shop's one-time codes: the policy above in front of a backend."""

    def __init__(self, settings: Settings, redis: Redis, backend: Backend):
        self.settings, self.redis, self.backend = settings, redis, backend

    @property
    def mode(self) -> str:
        return self.backend.mode

    def send(self, phone: str, code: str, identity: str, reply_id: str, now: float | None = None) -> Sent:
        reason = number_refusal(self.settings, phone) or self._reserve(phone, identity, now)
        outbound = None
        if reason is None:
            reason, outbound = self.backend.send(phone, code, reply_id)
            if reason is not None:
                self._give_back(phone, identity, now)  # the provider refused it: nothing was sent
        if reason is not None:
            log.warning("one-time code refused (%s) to=%s from=%s", reason, mask(phone), mask(identity))
            return Sent(False, reason)
        log.info("one-time code sent to=%s by=%s", mask(phone), self.mode)
        return Sent(True, None, outbound)

    def check(self, phone: str, code: str) -> str:
        """'approved' | 'wrong' | 'expired' | 'too_many' | 'unavailable' (provider backends only)."""
        return self.backend.check(phone, code)

    # -- the caps ------------------------------------------------------------------------------------
    def _counters(self, phone: str, identity: str, now: float | None) -> list[tuple[str, int, int]]:
        hour = int((time.time() if now is None else now) // 3600)
        s = self.settings
        return [(redis_keys.otp_asks(identity), s.OTP_MAX_SENDS_PER_IDENTITY, WINDOW),
                (redis_keys.otp_sends(phone), s.OTP_MAX_SENDS_PER_NUMBER, WINDOW),
                (redis_keys.otp_budget(hour), s.OTP_HOURLY_BUDGET, 2 * 3600)]

    def _reserve(self, phone: str, identity: str, now: float | None) -> str | None:
        counters = self._counters(phone, identity, now)
        with self.redis.pipeline() as pipe:  # MULTI: the three counts move together
            for key, _, ttl in counters:
                pipe.incr(key)
                pipe.expire(key, ttl, nx=True)
            got = pipe.execute()[::2]
        reasons = ("identity_cap", "number_cap", "budget")
        over = [reason for (_, cap, _), n, reason in zip(counters, got, reasons, strict=True) if int(n) > cap]
        if over:
            self._give_back(phone, identity, now)
            return over[0]
        return None

    def _give_back(self, phone: str, identity: str, now: float | None) -> None:
        with self.redis.pipeline() as pipe:
            for key, _, _ in self._counters(phone, identity, now):
                pipe.decr(key)
            pipe.execute()


# -- lock-out after too many wrong codes (any backend, across every conversation) ------------------

def lock_seconds(redis: Redis, phone: str) -> int:
    """How long verification of `phone` stays refused after too many wrong codes (0: not locked)."""
    ttl = redis.ttl(redis_keys.otp_lock(phone))
    return int(ttl) if ttl and ttl > 0 else 0


def lock(redis: Redis, phone: str, seconds: int) -> None:
    redis.set(redis_keys.otp_lock(phone), "1", ex=seconds)


def build(settings: Settings, redis: Redis, senders: dict, verify: Backend | None = None) -> Codes | None:
    """The shop's codes: Twilio Verify (`verify`, built by the runtime when configured), else local
    codes over its SMS sender, else None (typed numbers cannot be verified; start-up warns)."""
    if verify is not None:
        return Codes(settings, redis, verify)
    if "sms" in senders:
        return Codes(settings, redis, LocalCodes(settings))
    log.warning("no SMS sender (TWILIO_SMS_FROM) and no TWILIO_VERIFY_SERVICE_SID: customers cannot verify a "
                "typed phone number; only channels that vouch for a number identify them (%s)",
                ", ".join(vouching_channels(settings)) or "none configured")
    return None


def vouching_channels(settings: Settings) -> list[str]:
    """The channels that can tell the shop a customer's number without a code."""
    out = []
    if settings.TELEGRAM_BOT_TOKEN:
        out.append("telegram")
    if settings.TWILIO_WHATSAPP_FROM:
        out.append("whatsapp")
    return out
