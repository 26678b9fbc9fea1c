"""One gate around every model call, for reading and translation alike: the breaker, the customer's
cap, the counters, and what a failure means.

An outage (timeout, 5xx, transport) and the quota running out (429) count towards the breaker.
A refused request (any other 4xx: a bad key, a retired model, a field the API version does not
take) is a configuration error: logged at ERROR with the API's own message, counted as
`model_config_error`, kept for the operators' page (bot.nlu.model_counters.last_config_error), and it does
not open the breaker: it is not an outage, and the shop should be told what is wrong rather than
silently run offline.
"""
from __future__ import annotations

import logging
import threading
import time

from pydantic import BaseModel

from bot.common.errors import ModelConfigError, ModelUnavailable
from bot.nlu.breaker import Breaker
from bot.nlu.gemini import GeminiCaller, ModelCall
from bot.nlu.model_counters import ModelStats
from bot.nlu.per_customer import CallCap

log = logging.getLogger("orderline.nlu")
LOG_AGAIN_SECONDS = 60  # the same configuration error is logged at most this often per process


class CallGate:
    def __init__(self, caller: GeminiCaller, stats: ModelStats, breaker: Breaker, cap: CallCap):
        self.caller, self.stats, self.breaker, self.cap = caller, stats, breaker, cap
        self._logged: dict[str, float] = {}
        self._lock = threading.Lock()

    def closed_because(self, customer: str) -> str | None:
        """Why no call may be made for this customer now (breaker_open, capped), or None."""
        if not self.breaker.allow():
            return "breaker_open"
        if not self.cap.take(customer):
            return "capped"
        return None

    def call(self, prefix: str, system: str, contents: str, schema: type[BaseModel],
             timeout: float | None = None) -> ModelCall:
        """One call, counted under `prefix` (nlu | translate); raises ModelUnavailable (with its cause)."""
        started = time.monotonic()
        try:
            call = self.caller.generate(system, contents, schema, timeout=timeout)
        except ModelConfigError as exc:
            self.stats.call(prefix, (time.monotonic() - started) * 1000)
            self.stats.config_error(exc, self.caller.model)
            self._log_config_error(exc)
            raise
        except ModelUnavailable as exc:
            self.stats.call(prefix, (time.monotonic() - started) * 1000)
            self.breaker.failure()  # an outage, or the quota running out: both stop calls for a while
            log.warning("gemini failed (%s): %s; going on without it", exc.cause, exc)
            raise
        self.breaker.success()
        self.stats.call(prefix, call.latency_ms, call.tokens_in, call.tokens_out)
        return call

    def _log_config_error(self, exc: ModelConfigError) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._logged.get(exc.api_message, -LOG_AGAIN_SECONDS) < LOG_AGAIN_SECONDS:
                return
            self._logged[exc.api_message] = now
        log.error("the Gemini API refused the request (%s %s) for model %s: %s -- check GEMINI_API_KEY and "
                  "GEMINI_MODEL (`python -m bot doctor` says what is wrong); reading offline meanwhile",
                  exc.status, exc.api_status, self.caller.model, exc.api_message)
