"""The edge to Gemini: one `generateContent` call through the google-genai SDK, bounded in time.

The SDK owns the HTTP call, its per-attempt timeout and its retries of 408/429/5xx
(HttpRetryOptions). Retries make the worst case several timeouts long, so each call also runs
under a deadline: the caller waits at most `timeout` seconds, and a request hook on the SDK's
httpx client (its documented `client_args`) stops any retry that would start after it.

Calls run in a pool of `concurrency` threads (GEMINI_CONCURRENCY): that many customers' calls are
in flight at once in one process, each lane waiting only for its own. The API version is pinned
(models.API_VERSION) and each model family is asked the way Google recommends (models.family_of).

SDK and transport errors are translated here into bot.common.errors: ModelTimeout, ModelRateLimited,
ModelUnavailable (5xx, transport) and ModelConfigError (any other 4xx: the request itself was
refused, with the API's own message).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

from bot.common.errors import ModelConfigError, ModelRateLimited, ModelTimeout, ModelUnavailable
from bot.config import Settings, SettingsError
from bot.nlu.models import API_VERSION, family_of

_HTTP_LIBRARIES: list[ModuleType] = [httpx2]
try:  # the SDK uses httpx2 unless GOOGLE_GENAI_HTTP_CLIENT=httpx
    import httpx

    _HTTP_LIBRARIES.append(httpx)
except ImportError:  # pragma: no cover
    pass

log = logging.getLogger("orderline.nlu.gemini")

_TIMEOUTS = tuple(m.TimeoutException for m in _HTTP_LIBRARIES)
_TRANSPORT = tuple(m.HTTPError for m in _HTTP_LIBRARIES)
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)


class DeadlinePassed(Exception):
    """The caller stopped waiting: the SDK must not start another attempt (it does not retry this)."""


_deadlines = threading.local()  # the deadline of the call running on this pool thread


def _stop_after_deadline(request) -> None:
    """httpx request hook: every attempt, first or retried, passes here before it is sent."""
    deadline = getattr(_deadlines, "at", None)
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlinePassed(f"{request.method} {request.url.path}: past the caller's deadline")


@dataclass
class ModelCall:
    """One answered call: what came back and what it cost."""

    parsed: BaseModel | None  # the response schema's model, or None when the text did not fit it
    text: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: float


class GeminiCaller:
    """A genai.Client for the process, and a pool that lets up to `concurrency` calls run at once,
    each under its caller's deadline."""

    def __init__(self, api_key: str, model: str, timeout_seconds: float, base_url: str | None = None,
                 retry_attempts: int = 2, concurrency: int = 16):
        self.model, self.timeout, self.concurrency = model, timeout_seconds, concurrency
        self.family = family_of(model)
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(
            base_url=base_url, api_version=API_VERSION, timeout=int(timeout_seconds * 1000),
            client_args={"event_hooks": {"request": [_stop_after_deadline]}},  # httpx keeps up to 100 connections
            retry_options=types.HttpRetryOptions(attempts=retry_attempts, initial_delay=0.2, max_delay=1.0,
                                                 jitter=0.1, http_status_codes=list(RETRY_STATUS_CODES))))
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="gemini")
        f = self.family
        self.thinking = (types.ThinkingConfig(thinking_budget=f.thinking_budget) if f.thinking_budget is not None
                         else types.ThinkingConfig(thinking_level=types.ThinkingLevel(f.thinking_level))
                         if f.thinking_level else None)

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiCaller:
        """The caller GEMINI_* describes; only made when GEMINI_API_KEY is set (without it nothing
        calls a model: see understanding.build_understander)."""
        if not settings.GEMINI_API_KEY:
            raise SettingsError("GEMINI_API_KEY is not set: there is no model to call")
        return cls(settings.GEMINI_API_KEY, settings.GEMINI_MODEL, settings.GEMINI_TIMEOUT_SECONDS,
                   settings.GEMINI_API_URL, settings.GEMINI_RETRY_ATTEMPTS, settings.GEMINI_CONCURRENCY)

    def config(self, system: str, schema: type[BaseModel], timeout: float) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=system, response_mime_type="application/json", response_schema=schema,
            temperature=self.family.temperature, candidate_count=1,
            max_output_tokens=self.family.max_output_tokens, thinking_config=self.thinking,
            http_options=types.HttpOptions(timeout=max(1, int(timeout * 1000))))

    def generate(self, system: str, contents: str, schema: type[BaseModel], timeout: float | None = None) -> ModelCall:
        """Ask once; raise ModelTimeout / ModelRateLimited / ModelConfigError / ModelUnavailable
        when no answer comes."""
        timeout = min(timeout or self.timeout, self.timeout)
        config = self.config(system, schema, timeout)
        started = time.monotonic()
        future = self.pool.submit(self._call, started + timeout, model=self.model, contents=contents, config=config)
        try:
            response = future.result(timeout=timeout)
        except (FutureTimeout, DeadlinePassed):
            future.cancel()  # never started (pool busy): it will not run at all
            raise ModelTimeout(f"no answer within {timeout:.1f}s") from None
        except genai_errors.APIError as exc:
            raise translate_api_error(exc) from None
        except _TIMEOUTS as exc:
            raise ModelTimeout(f"timed out: {type(exc).__name__}") from None
        except _TRANSPORT as exc:
            raise ModelUnavailable(f"transport: {type(exc).__name__}") from None
        except genai_errors.UnknownApiResponseError as exc:
            raise ModelUnavailable(f"unreadable response: {str(exc)[:80]}") from None
        except Exception as exc:  # the SDK failing in a way not listed above must not block an order: loud, not hidden
            log.exception("unexpected error from the Gemini SDK")
            raise ModelUnavailable(f"unexpected: {type(exc).__name__}") from exc
        usage = response.usage_metadata
        tokens_in = (usage.prompt_token_count or 0) if usage else 0
        tokens_out = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
        return ModelCall(response.parsed if isinstance(response.parsed, schema) else None, _text(response),
                         tokens_in, tokens_out, (time.monotonic() - started) * 1000)

    def _call(self, deadline: float, **request: Any) -> types.GenerateContentResponse:
        _deadlines.at = deadline
        try:
            return self.client.models.generate_content(**request)
        finally:
            _deadlines.at = None


def translate_api_error(exc: genai_errors.APIError) -> ModelUnavailable:
    """429: rate limited (quota); other 4xx: the request was refused (configuration); else an outage."""
    code = int(exc.code or 0)
    if code == 429:
        return ModelRateLimited(f"rate limited: {exc.status}")
    if 400 <= code < 500 and code != 408:
        return ModelConfigError(code, (exc.message or str(exc.details))[:500], exc.status or "")
    return ModelUnavailable(f"model answered {code} {exc.status}")


def _text(response: types.GenerateContentResponse) -> str | None:
    try:
        return response.text
    except ValueError:  # no candidate, or a blocked one
        return None


def why_unparsed(text: str | None) -> str:
    """Name the problem with an answer that did not fit the schema: empty, malformed (not JSON), schema."""
    if not text or not text.strip():
        return "empty"
    try:
        json.loads(text)
    except ValueError:
        return "malformed"
    return "schema"
