"""Settings: every knob of Orderline, read from the environment and checked once at start.

A bad or missing setting stops start-up with a message that names it, instead of failing
later inside a request. Nothing here opens a connection.
"""
from __future__ import annotations

import os
import re
import secrets
from typing import Any, Literal
from urllib.parse import urlparse

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.common.phones import NUMBER_TYPES
from bot.common.tokens import NamedToken, parse_tokens

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
    # Redis behind Sentinel: the sentinels name the primary (REDIS_URL then gives only the password,
    # database and scheme); every process follows a failover without a restart.
    REDIS_SENTINELS: str | None = None  # host:port,host:port,...
    REDIS_SENTINEL_MASTER: str = "orderline"
    REDIS_SENTINEL_PASSWORD: str | None = None  # the sentinels' own password (their requirepass)
    # A lost connection is retried this long before the caller sees an error (long enough for
    # Sentinel to notice a dead primary and promote a replica). Default: 15 with sentinels, else 0.
    REDIS_FAILOVER_SECONDS: float | None = Field(default=None, ge=0, le=300)
    # Accepting a message waits (bounded) until this many replicas have it. Default: 1 with sentinels.
    REDIS_WAIT_REPLICAS: int | None = Field(default=None, ge=0, le=10)
    REDIS_WAIT_TIMEOUT_MS: int = Field(default=500, ge=1, le=10_000)

    # Tokens for integrators (/api/chat) and operators (/stats, /api/...): one shared token each
    # (named "default"), and/or named ones, "name=token" pairs (bot/common/tokens.py).
    API_TOKEN: str | None = None
    OPERATOR_TOKEN: str | None = None
    API_TOKENS: tuple[NamedToken, ...] = ()  # "app=tok1, callcentre:code=tok2, partner:vouch=tok3"
    OPERATOR_TOKENS: tuple[NamedToken, ...] = ()  # "ana=tok1, ben=tok2": the audit log records the name
    METRICS_TOKEN: str | None = None  # set: GET /metrics needs it as a Bearer token; unset: /metrics is open

    PUBLIC_BASE_URL: str | None = None
    HOST: str | None = None  # where the web app listens; default 127.0.0.1 for `dev`, 0.0.0.0 for `serve`
    PORT: int = Field(default=8000, ge=1, le=65535)

    TELEGRAM_BOT_TOKEN: str | None = None
    TELEGRAM_WEBHOOK_SECRET: str | None = None
    TELEGRAM_API_URL: str = "https://api.telegram.org/bot"

    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_SMS_FROM: str | None = None
    TWILIO_WHATSAPP_FROM: str | None = None
    TWILIO_API_URL: str | None = None
    # WhatsApp outside the 24-hour window: an approved template (Content SID, HX...) per purpose.
    WHATSAPP_TEMPLATE_ORDER_UPDATE: str | None = None  # {{1}} order number, {{2}} what happened
    WHATSAPP_TEMPLATE_BACK_IN_STOCK: str | None = None  # {{1}} product name
    WHATSAPP_TEMPLATE_CART_REMINDER: str | None = None  # {{1}} what is in the cart
    WHATSAPP_TEMPLATE_FEEDBACK: str | None = None  # {{1}} order number
    VOICE_LANGUAGE: str = "en-US"  # speech recognition and <Say> language of phone calls
    VOICE_WAIT_SECONDS: float = Field(default=3.0, gt=0, le=8)  # a call's turn waits this long, then holds
    # Caller ID vouches for a caller's number only with SHAKEN/STIR full attestation (StirVerstat
    # TN-Validation-Passed-A); "partial" also trusts B; "any" trusts every caller ID that is not withheld
    # (caller ID is easy to forge: only where SHAKEN/STIR does not exist and the shop accepts the risk).
    VOICE_CALLER_ID_TRUST: Literal["attested", "partial", "any"] = "attested"

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
    # Who may be sent a one-time code (bot/customers/codes.py): each refusal is counted for operators.
    OTP_MAX_SENDS_PER_IDENTITY: int = Field(default=3, ge=1, le=100)  # per hour, one sender, whatever the numbers
    OTP_MAX_SENDS_PER_NUMBER: int = Field(default=5, ge=1, le=100)  # per hour, one number, whoever asks
    OTP_HOURLY_BUDGET: int = Field(default=200, ge=1, le=1_000_000)  # per clock hour, the whole shop
    OTP_ALLOWED_COUNTRIES: tuple[str, ...] = ()  # regions codes may go to besides DEFAULT_REGION ("CA,MX")
    OTP_REFUSED_NUMBER_TYPES: tuple[str, ...] = ("premium_rate", "shared_cost", "non_geographic")
    TWILIO_VERIFY_SERVICE_SID: str | None = None  # VA...: codes are sent and checked by Twilio Verify
    MAX_ITEM_QUANTITY: int = Field(default=50, ge=1)
    # strict: a delivery address must look like one (a number and words, a street word, or three
    # comma-separated parts); lenient: any 6+ characters with a letter (places without house numbers)
    ADDRESS_CHECK: str = Field(default="strict", pattern="^(strict|lenient)$")
    RATE_LIMIT_PER_MINUTE: int = Field(default=30, ge=1)  # a customer's messages acted on per minute

    # Messages the shop sends first (bot/outreach): back in stock, a cart left behind, feedback.
    QUIET_HOURS: str = "21:00-08:00"  # the shop's local time (shop file's timezone); "off" for none
    CART_REMINDER_MINUTES: int = Field(default=180, ge=0, le=7 * 24 * 60)  # 0: no cart reminders

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

    @field_validator("REDIS_SENTINELS")
    @classmethod
    def _sentinels(cls, v):
        if not v:
            return None
        addresses = [a.strip() for a in v.split(",") if a.strip()]
        for address in addresses:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(f"REDIS_SENTINELS must be host:port pairs separated by commas, got {address!r}")
        return ",".join(addresses)

    @field_validator("REDIS_SENTINEL_MASTER")
    @classmethod
    def _sentinel_master(cls, v):
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", v):
            raise ValueError(f"REDIS_SENTINEL_MASTER must be a Sentinel master name like orderline, got {v!r}")
        return v

    @field_validator("HOST")
    @classmethod
    def _host(cls, v):
        if v and not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", v):
            raise ValueError(f"HOST must be an address to listen on, like 127.0.0.1 or 0.0.0.0, got {v!r}")
        return v or None

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

    @field_validator("WHATSAPP_TEMPLATE_ORDER_UPDATE", "WHATSAPP_TEMPLATE_BACK_IN_STOCK",
                     "WHATSAPP_TEMPLATE_CART_REMINDER", "WHATSAPP_TEMPLATE_FEEDBACK")
    @classmethod
    def _template(cls, v, info):
        if v and not re.fullmatch(r"HX[0-9a-fA-F]{32}", v):
            raise ValueError(f"{info.field_name} must be a Content SID (HX and 32 hex digits), got {v!r}")
        return v or None

    @field_validator("QUIET_HOURS")
    @classmethod
    def _quiet(cls, v):
        v = v.strip().lower()
        if v in ("off", "none"):
            return "off"
        m = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", v)
        if not m or m.group(1, 2) == m.group(3, 4):
            raise ValueError(f"QUIET_HOURS must be a window like 21:00-08:00 (the shop's time), or off; got {v!r}")
        return v

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

    @field_validator("OTP_ALLOWED_COUNTRIES", "OTP_REFUSED_NUMBER_TYPES", mode="before")
    @classmethod
    def _split(cls, v):
        return tuple(x.strip() for x in v.split(",") if x.strip()) if isinstance(v, str) else v

    @field_validator("OTP_ALLOWED_COUNTRIES")
    @classmethod
    def _countries(cls, v):
        for region in v:
            if not re.fullmatch(r"[A-Z]{2}", region) or not phonenumbers.country_code_for_region(region):
                raise ValueError(f"OTP_ALLOWED_COUNTRIES: {region!r} is not a country code like CA or MX")
        return v

    @field_validator("OTP_REFUSED_NUMBER_TYPES")
    @classmethod
    def _number_types(cls, v):
        if v == ("none",):
            return ()
        unknown = [t for t in v if t not in NUMBER_TYPES]
        if unknown:
            raise ValueError(f"OTP_REFUSED_NUMBER_TYPES: unknown type {unknown[0]!r}; known: "
                             f"{', '.join(NUMBER_TYPES)} (or none)")
        return v

    @field_validator("TWILIO_VERIFY_SERVICE_SID")
    @classmethod
    def _verify_sid(cls, v):
        if v and not re.fullmatch(r"VA[0-9a-fA-F]{32}", v):
            raise ValueError("TWILIO_VERIFY_SERVICE_SID must be a Verify service SID (VA followed by 32 hex digits)")
        return v or None

    @field_validator("API_TOKENS", "OPERATOR_TOKENS", mode="before")
    @classmethod
    def _named_tokens(cls, v, info):
        return parse_tokens(info.field_name, v) if isinstance(v, str) else v

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, v):
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return v

    @model_validator(mode="after")
    def _services(self):
        """Redis and MongoDB: both or neither; the Sentinel defaults."""
        redis_set = bool(self.REDIS_URL or self.REDIS_SENTINELS)
        if redis_set != bool(self.MONGO_URI):
            only = next(n for n in ("MONGO_URI", "REDIS_URL", "REDIS_SENTINELS") if getattr(self, n))
            raise ValueError(
                "set both REDIS_URL and MONGO_URI (production; REDIS_SENTINELS may stand in for REDIS_URL) "
                f"or neither (the embedded default); only {only} is set"
            )
        if self.REDIS_WAIT_REPLICAS and not redis_set:
            raise ValueError("REDIS_WAIT_REPLICAS needs a real Redis (REDIS_URL or REDIS_SENTINELS)")
        self._sentinel_defaults()
        return self

    def _sentinel_defaults(self) -> None:
        """Behind Sentinel, accepting waits for a replica and a failover is ridden through."""
        sentinels = bool(self.REDIS_SENTINELS)
        if self.REDIS_FAILOVER_SECONDS is None:
            self.REDIS_FAILOVER_SECONDS = 15.0 if sentinels else 0.0
        if self.REDIS_WAIT_REPLICAS is None:
            self.REDIS_WAIT_REPLICAS = 1 if sentinels else 0

    @model_validator(mode="after")
    def _consistent(self):
        self._check_tokens()
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
        if self.TWILIO_VERIFY_SERVICE_SID and not self.TWILIO_ACCOUNT_SID:
            raise ValueError("TWILIO_VERIFY_SERVICE_SID needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        return self

    def _check_tokens(self) -> None:
        """Production needs a way in for each role (the shared token, or named ones); no token may
        open two doors (an integrator's token that is also an operator's)."""
        for single, named in (("API_TOKEN", "API_TOKENS"), ("OPERATOR_TOKEN", "OPERATOR_TOKENS")):
            token = getattr(self, single)
            if token is not None and len(token) < 16 and not self.embedded:
                raise ValueError(f"{single} must be set to a secret of at least 16 characters")
            if not self.embedded and not token and not getattr(self, named):
                raise ValueError(f"{single} must be set to a secret of at least 16 characters (or set {named})")
        integrators = {t.secret for t in self.API_TOKENS} | ({self.API_TOKEN} if self.API_TOKEN else set())
        operators = {t.secret for t in self.OPERATOR_TOKENS} | ({self.OPERATOR_TOKEN} if self.OPERATOR_TOKEN else set())
        if integrators & operators:
            raise ValueError("an integrator's token (API_TOKEN/API_TOKENS) is also an operator's "
                             "(OPERATOR_TOKEN/OPERATOR_TOKENS): give each its own")

    def _check_stripe(self) -> None:
        key, secret = self.STRIPE_SECRET_KEY, self.STRIPE_WEBHOOK_SECRET
        if bool(key) != bool(secret):
            raise ValueError("set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither); only "
                             f"{'STRIPE_SECRET_KEY' if key else 'STRIPE_WEBHOOK_SECRET'} is set")
        if key and not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9]{8,}", key):
            raise ValueError("STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_..., sk_test_... or rk_...)")
        if secret and not re.fullmatch(r"whsec_[A-Za-z0-9+/=]{8,}", secret):
            raise ValueError("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...)")

    generated_tokens: tuple[str, ...] = Field(default=(), exclude=True)  # set by load_settings, never from the env

    @property
    def embedded(self) -> bool:
        """True when Orderline runs on fakeredis + mongomock inside one process."""
        return not self.REDIS_URL and not self.REDIS_SENTINELS and not self.MONGO_URI

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """REDIS_SENTINELS as (host, port) pairs; empty without Sentinel."""
        pairs = [a.rpartition(":") for a in (self.REDIS_SENTINELS or "").split(",") if a]
        return [(host.strip("[]"), int(port)) for host, _, port in pairs]


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Read settings from `env` (default: os.environ); raise SettingsError naming the bad one.

    Empty values count as unset, so `FOO=` in a .env file does not switch a feature on.
    """
    source = os.environ if env is None else env
    values: dict[str, Any] = {k: v for k, v in source.items()
                              if k in Settings.model_fields and v != "" and k != "generated_tokens"}
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
        # A newcomer's dev run needs tokens too; invent them and let `dev` print them (only these).
        # The dev chat page carries the shared API token, so it is invented even beside named ones.
        if not settings.API_TOKEN:
            settings.API_TOKEN = "dev-" + secrets.token_urlsafe(12)
            settings.generated_tokens += ("API_TOKEN",)
        if not settings.OPERATOR_TOKEN and not settings.OPERATOR_TOKENS:
            settings.OPERATOR_TOKEN = "op-" + secrets.token_urlsafe(12)
            settings.generated_tokens += ("OPERATOR_TOKEN",)
    return settings
