"""The edge to Gemini: one `generateContent` call through the google-genai SDK, bounded in time.

The SDK owns the HTTP call, its per-attempt timeout and its retries of 408/429/5xx
(HttpRetryOptions). Retries make the worst case several timeouts long, so each call also runs
under a deadline: the caller waits at most `timeout` seconds, and a request hook on the SDK's
httpx client (its documented `client_args`) stops any retry that would start after it.
SDK and transport errors are translated here into bot.errors.ModelUnavailable and its kinds.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

from bot.errors import ModelRateLimited, ModelTimeout, ModelUnavailable

try:  # the SDK uses httpx2 unless GOOGLE_GENAI_HTTP_CLIENT=httpx
    import httpx
except ImportError:  # pragma: no cover
    httpx = None

log = logging.getLogger("orderline.nlu.gemini")

_TIMEOUTS = tuple(m.TimeoutException for m in (httpx2, httpx) if m is not None)
_TRANSPORT = tuple(m.HTTPError for m in (httpx2, httpx) if m is not None)
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)
CALL_THREADS = 4  # calls in flight per process; a call past its deadline finishes in the background


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
    """A genai.Client for the process, and a small pool that lets a call run under a deadline."""

    def __init__(self, api_key: str, model: str, timeout_seconds: float, base_url: str | None = None,
                 retry_attempts: int = 2):
        self.model, self.timeout = model, timeout_seconds
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(
            base_url=base_url, timeout=int(timeout_seconds * 1000),
            client_args={"event_hooks": {"request": [_stop_after_deadline]}},
            retry_options=types.HttpRetryOptions(attempts=retry_attempts, initial_delay=0.2, max_delay=1.0,
                                                 jitter=0.1, http_status_codes=list(RETRY_STATUS_CODES))))
        self.pool = ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix="gemini")
        # 2.5 Flash thinks by default, which costs seconds and tokens this task does not need
        self.thinking = types.ThinkingConfig(thinking_budget=0) \
            if model.startswith("gemini-2.5-flash") and "lite" not in model else None

    @classmethod
    def from_settings(cls, settings) -> "GeminiCaller":
        return cls(settings.GEMINI_API_KEY, settings.GEMINI_MODEL, settings.GEMINI_TIMEOUT_SECONDS,
                   settings.GEMINI_API_URL, settings.GEMINI_RETRY_ATTEMPTS)

    def config(self, system: str, schema: type[BaseModel], timeout: float) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=system, response_mime_type="application/json", response_schema=schema,
            temperature=0, candidate_count=1, max_output_tokens=2048, thinking_config=self.thinking,
            http_options=types.HttpOptions(timeout=max(1, int(timeout * 1000))))

    def generate(self, system: str, contents: str, schema: type[BaseModel], timeout: float | None = None) -> ModelCall:
        """Ask once; raise ModelTimeout / ModelRateLimited / ModelUnavailable when no answer comes."""
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
            if exc.code == 429:
                raise ModelRateLimited(f"rate limited: {exc.status}") from None
            raise ModelUnavailable(f"model answered {exc.code} {exc.status}") from None
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

    def _call(self, deadline: float, **request):
        _deadlines.at = deadline
        try:
            return self.client.models.generate_content(**request)
        finally:
            _deadlines.at = None


def _text(response) -> str | None:
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
