"""Settings: every knob of Orderline, read from the environment and checked once at start.

A bad or missing setting stops start-up with a message that names it, instead of failing
later inside a request. Nothing here opens a connection.
"""
from __future__ import annotations

import os
import re
import secrets
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_URL_SCHEMES = {"http", "https"}


class SettingsError(Exception):
    """Raised when the environment does not describe a runnable Orderline."""


def _check_url(name: str, value: str | None, schemes=_URL_SCHEMES) -> str | None:
    if value is None or value == "":
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ValueError(f"{name} must be a {'/'.join(sorted(schemes))} URL, got {value!r}")
    return value.rstrip("/")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    # Services. Both unset = the embedded default (fakeredis + mongomock in one process).
    REDIS_URL: str | None = None
    MONGO_URI: str | None = None
    MONGO_DB: str = "orderline"

    # Tokens for integrators (/api/chat) and operators (/stats, /api/...).
    API_TOKEN: str | None = None
    OPERATOR_TOKEN: str | None = None
    METRICS_TOKEN: str | None = None  # set: GET /metrics needs it as a Bearer token; unset: /metrics is open

    PUBLIC_BASE_URL: str | None = None
    PORT: int = Field(default=8000, ge=1, le=65535)

    TELEGRAM_BOT_TOKEN: str | None = None
    TELEGRAM_WEBHOOK_SECRET: str | None = None
    TELEGRAM_API_URL: str = "https://api.telegram.org/bot"

    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_SMS_FROM: str | None = None
    TWILIO_WHATSAPP_FROM: str | None = None
    TWILIO_API_URL: str | None = None
    VOICE_LANGUAGE: str = "en-US"  # speech recognition and <Say> language of phone calls
    VOICE_WAIT_SECONDS: float = Field(default=3.0, gt=0, le=8)  # a call's turn waits this long, then holds

    GEMINI_API_KEY: str | None = None
    GEMINI_MODEL: str = "gemini-3.5-flash-lite"  # why this one: bot/nlu/models.py
    GEMINI_API_URL: str | None = None
    GEMINI_TIMEOUT_SECONDS: float = Field(default=4.0, gt=0, le=30)
    GEMINI_RETRY_ATTEMPTS: int = Field(default=2, ge=1, le=5)  # the SDK's tries for 408/429/5xx, within the timeout
    GEMINI_MAX_CALLS_PER_MINUTE: int = Field(default=20, ge=1, le=1000)  # per customer; past it, offline
    GEMINI_CACHE_SECONDS: int = Field(default=60, ge=0, le=3600)  # identical (state, step, text) readings; 0 = off
    GEMINI_BREAKER_FAILURES: int = Field(default=5, ge=1, le=100)  # failures in a row that open the breaker
    GEMINI_BREAKER_COOLDOWN_SECONDS: int = Field(default=30, ge=1, le=3600)  # open this long, then one probe
    GEMINI_CONCURRENCY: int = Field(default=16, ge=1, le=256)  # model calls in flight per process

    # The shop's rules (bot/shop/): a YAML file; the three amounts below, when set, win over it.
    SHOP_FILE: str | None = None  # default: bot/data/shop.yaml
    MIN_ORDER_CENTS: int | None = Field(default=None, ge=0, le=100_000_000)
    DELIVERY_FEE_CENTS: int | None = Field(default=None, ge=0, le=100_000_000)
    FREE_DELIVERY_OVER_CENTS: int | None = Field(default=None, ge=0, le=100_000_000)

    # Paying online (Stripe Checkout): the shop file's payment method "online" needs both keys.
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_URL: str = "https://api.stripe.com"  # Stripe's API base (a proxy, or tests)
    STRIPE_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=30)  # per request; the SDK retries twice
    STRIPE_SUCCESS_URL: str | None = None  # where Stripe sends the customer after paying (default: its own page)
    PAYMENT_EXPIRY_MINUTES: int = Field(default=30, ge=30, le=1440)  # Stripe allows 30 min to 24 h

    SAMPLE_CATALOG: bool = True  # an empty products collection gets the sample catalog at start
    CURRENCY: str = "USD"
    SHOP_NAME: str = "Orderline Grocery"
    DEFAULT_REGION: str = "US"  # how a typed number without "+" is read

    # Conversation behaviour.
    IDLE_TIMEOUT_MINUTES: int = Field(default=30, ge=1)
    CART_KEEP_MINUTES: int = Field(default=24 * 60, ge=0)  # 0: an idle conversation drops its cart
    OTP_TTL_SECONDS: int = Field(default=300, ge=30)
    OTP_MAX_ATTEMPTS: int = Field(default=5, ge=1)
    OTP_LOCK_MINUTES: int = Field(default=30, ge=1)
    MAX_ITEM_QUANTITY: int = Field(default=50, ge=1)
    RATE_LIMIT_PER_MINUTE: int = Field(default=30, ge=1)  # a customer's messages acted on per minute

    # Ingress and channels.
    CHAT_WAIT_SECONDS: float = Field(default=5.0, gt=0, le=25)
    MAX_BODY_BYTES: int = Field(default=64 * 1024, ge=1024)
    DEDUPE_TTL_SECONDS: int = Field(default=48 * 3600, ge=24 * 3600)
    CLAIM_LEASE_SECONDS: float = Field(default=30.0, ge=0.5, le=600)  # a dead worker's message waits this long
    STEP_BUDGET_SECONDS: float = Field(default=20.0, ge=0.5, le=600)  # one message's step; past it, parked
    RETRY_WINDOW_SECONDS: int = Field(default=900, ge=10, le=7 * 86400)  # transient failures retried this long
    WORKER_CONCURRENCY: int = Field(default=16, ge=1, le=256)  # conversations in flight per worker process
    DEAD_LETTER_MAX: int = Field(default=10_000, ge=100)  # dead letters kept, at most (oldest dropped first)
    DEAD_LETTER_DAYS: int = Field(default=30, ge=1)  # dead letters older than this are dropped
    RETENTION_DAYS: int = Field(default=30, ge=1)
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = Field(default="text", pattern="^(text|json)$")

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, v):
        return _check_url("REDIS_URL", v, {"redis", "rediss", "unix"})

    @field_validator("MONGO_URI")
    @classmethod
    def _mongo_uri(cls, v):
        return _check_url("MONGO_URI", v, {"mongodb", "mongodb+srv"})

    @field_validator("PUBLIC_BASE_URL", "TELEGRAM_API_URL", "TWILIO_API_URL", "GEMINI_API_URL", "STRIPE_API_URL",
                     "STRIPE_SUCCESS_URL")
    @classmethod
    def _urls(cls, v, info):
        return _check_url(info.field_name, v)

    @field_validator("TWILIO_SMS_FROM")
    @classmethod
    def _sms_from(cls, v):
        if v and not E164.match(v):
            raise ValueError(f"TWILIO_SMS_FROM must be an E.164 number like +15551234567, got {v!r}")
        return v or None

    @field_validator("TWILIO_WHATSAPP_FROM")
    @classmethod
    def _wa_from(cls, v):
        if v:
            number = v.removeprefix("whatsapp:")
            if not E164.match(number):
                raise ValueError("TWILIO_WHATSAPP_FROM must be an E.164 number (optionally whatsapp:+...)")
            return "whatsapp:" + number
        return None

    @field_validator("GEMINI_MODEL")
    @classmethod
    def _model(cls, v):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", v):
            raise ValueError(f"GEMINI_MODEL must be a model name like gemini-3.5-flash-lite, got {v!r}")
        return v

    @field_validator("VOICE_LANGUAGE")
    @classmethod
    def _voice_language(cls, v):
        if not re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", v):
            raise ValueError(f"VOICE_LANGUAGE must be a language tag like en-US, got {v!r}")
        return v

    @field_validator("CURRENCY")
    @classmethod
    def _currency(cls, v):
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"CURRENCY must be an ISO 4217 code like USD, got {v!r}")
        return v

    @field_validator("DEFAULT_REGION")
    @classmethod
    def _region(cls, v):
        if not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(f"DEFAULT_REGION must be a two-letter country code like US, got {v!r}")
        return v

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, v):
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if bool(self.REDIS_URL) != bool(self.MONGO_URI):
            raise ValueError(
                "set both REDIS_URL and MONGO_URI (production) or neither (the embedded default); "
                f"only {'REDIS_URL' if self.REDIS_URL else 'MONGO_URI'} is set"
            )
        if not self.embedded:
            for name in ("API_TOKEN", "OPERATOR_TOKEN"):
                token = getattr(self, name)
                if not token or len(token) < 16:
                    raise ValueError(f"{name} must be set to a secret of at least 16 characters")
        if self.METRICS_TOKEN and len(self.METRICS_TOKEN) < 16:
            raise ValueError("METRICS_TOKEN must be at least 16 characters when set")
        if self.TELEGRAM_BOT_TOKEN and not self.TELEGRAM_WEBHOOK_SECRET:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set")
        if self.TELEGRAM_WEBHOOK_SECRET and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.TELEGRAM_WEBHOOK_SECRET):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        self._check_stripe()
        if self.TWILIO_ACCOUNT_SID:
            if not self.TWILIO_AUTH_TOKEN:
                raise ValueError("TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set")
            if not self.PUBLIC_BASE_URL:
                raise ValueError("PUBLIC_BASE_URL is required when TWILIO_ACCOUNT_SID is set (Twilio signs that URL)")
            if not (self.TWILIO_SMS_FROM or self.TWILIO_WHATSAPP_FROM):
                raise ValueError("set TWILIO_SMS_FROM or TWILIO_WHATSAPP_FROM when TWILIO_ACCOUNT_SID is set")
        return self

    def _check_stripe(self) -> None:
        key, secret = self.STRIPE_SECRET_KEY, self.STRIPE_WEBHOOK_SECRET
        if bool(key) != bool(secret):
            raise ValueError("set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither); only "
                             f"{'STRIPE_SECRET_KEY' if key else 'STRIPE_WEBHOOK_SECRET'} is set")
        if key and not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9]{8,}", key):
            raise ValueError("STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_..., sk_test_... or rk_...)")
        if secret and not re.fullmatch(r"whsec_[A-Za-z0-9+/=]{8,}", secret):
            raise ValueError("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...)")

    @property
    def embedded(self) -> bool:
        """True when Orderline runs on fakeredis + mongomock inside one process."""
        return not self.REDIS_URL and not self.MONGO_URI


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Read settings from `env` (default: os.environ); raise SettingsError naming the bad one.

    Empty values count as unset, so `FOO=` in a .env file does not switch a feature on.
    """
    source = os.environ if env is None else env
    values = {k: v for k, v in source.items() if k in Settings.model_fields and v != ""}
    values.update(overrides)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(msg if not where or where in msg else f"{where}: {msg}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    if settings.embedded:
        # A newcomer's dev run needs tokens too; invent them and let `dev` print them.
        if not settings.API_TOKEN:
            settings.API_TOKEN = "dev-" + secrets.token_urlsafe(12)
        if not settings.OPERATOR_TOKEN:
            settings.OPERATOR_TOKEN = "op-" + secrets.token_urlsafe(12)
    return settings
