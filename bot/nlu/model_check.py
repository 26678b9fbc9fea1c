"""Does the model work with this key? One cheap call, shaped like every reading (system instruction,
JSON schema, the family's thinking setting, the pinned API version), and the answer in plain words.

Used by `python -m bot doctor` and, cached, by /readyz (bot/web/health.py). The key is never shown.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass

from pydantic import BaseModel
from redis import Redis

from bot.common import redis_keys
from bot.common.errors import ModelConfigError, ModelRateLimited, ModelTimeout, ModelUnavailable
from bot.config import Settings
from bot.nlu.gemini import GeminiCaller
from bot.nlu.models import API_VERSION, DEFAULT_MODEL, RETIRING, family_of

CHECK_TTL = 600  # /readyz re-checks at most this often (a call costs quota)
PING = "Answer with the JSON {\"ok\": true}."


class Pong(BaseModel):
    ok: bool = True


@dataclass
class ModelCheck:
    ok: bool
    status: str  # ok | config | rate_limited | unavailable
    said: str  # plain words for the operator
    model: str
    latency_ms: float | None = None
    warning: str | None = None  # e.g. the model is being retired
    checked_at: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def check_model(settings: Settings, timeout: float | None = None) -> ModelCheck:
    model = settings.GEMINI_MODEL
    if not settings.GEMINI_API_KEY:  # its callers check first (bot doctor, /readyz): said plainly all the same
        return ModelCheck(False, "config", "GEMINI_API_KEY is not set: every message is read offline", model,
                          checked_at=time.time())
    caller = GeminiCaller(settings.GEMINI_API_KEY, model, timeout or settings.GEMINI_TIMEOUT_SECONDS,
                          settings.GEMINI_API_URL, retry_attempts=1, concurrency=1)
    warning = f"{model} is {RETIRING[model]}; set GEMINI_MODEL={DEFAULT_MODEL}" if model in RETIRING else None
    started = time.monotonic()
    try:
        caller.generate(PING, json.dumps({"ping": "ok"}), Pong)
    except ModelConfigError as exc:
        return ModelCheck(False, "config", explain(exc, settings), model, warning=warning, checked_at=time.time())
    except ModelRateLimited:
        said = ("the key and model work, but Google is rate limiting this key now (its quota is used up): "
                "messages are read offline until it recovers")
        return ModelCheck(False, "rate_limited", said, model, warning=warning, checked_at=time.time())
    except ModelTimeout:
        said = (f"Gemini did not answer within {caller.timeout:g} s: Google may be slow or down, or this machine "
                "cannot reach it; messages are read offline meanwhile")
        return ModelCheck(False, "unavailable", said, model, warning=warning, checked_at=time.time())
    except ModelUnavailable as exc:
        where = settings.GEMINI_API_URL or "generativelanguage.googleapis.com"
        said = (f"could not get an answer from Gemini at {where} ({exc}): check the network, a proxy or "
                "GEMINI_API_URL; messages are read offline meanwhile")
        return ModelCheck(False, "unavailable", said, model, warning=warning, checked_at=time.time())
    finally:
        caller.pool.shutdown(wait=False)
    latency = round((time.monotonic() - started) * 1000, 1)
    said = f"{model} answered in {latency:g} ms (API {API_VERSION}, {family_of(model).name} family settings)"
    return ModelCheck(True, "ok", said, model, latency, warning, time.time())


def explain(exc: ModelConfigError, settings: Settings) -> str:
    """What a refused request means, for the person who can fix it."""
    model, google = settings.GEMINI_MODEL, f"Google said: {exc.api_message}"
    if exc.status == 404:
        return (f"GEMINI_MODEL={model} is not a model this key can use (retired, misspelt, or not offered to "
                f"this key's project): set GEMINI_MODEL to a current model such as {DEFAULT_MODEL}. {google}")
    if exc.status == 401 or (exc.status == 400 and "api key" in exc.api_message.lower()):
        return ("GEMINI_API_KEY was refused: the key is not valid (mistyped, deleted, or not a Gemini API key); "
                f"create one at https://aistudio.google.com/apikey. {google}")
    if exc.status == 403:
        return ("GEMINI_API_KEY may not call the Gemini API: the Generative Language API is not enabled for its "
                f"Google Cloud project, or the key is restricted to other APIs or addresses. {google}")
    return (f"Google refused the request Orderline sends to {model} ({exc.status}): the model may not take one of "
            f"the settings Orderline uses (a system instruction, JSON output, its thinking setting); try "
            f"GEMINI_MODEL={DEFAULT_MODEL}. {google}")


class ReadinessCheck:
    """The model check for /readyz: the last result (shared by every process through Redis), refreshed
    in the background at most every CHECK_TTL seconds so a probe never waits for Google."""

    def __init__(self, settings: Settings, redis: Redis):
        self.settings, self.redis = settings, redis
        self._running = threading.Lock()

    def current(self) -> dict | None:
        raw = self.redis.get(redis_keys.NLU_MODEL_CHECK)
        if raw is None:
            self._refresh()
            return None
        return json.loads(raw)

    def _refresh(self) -> None:
        if not self._running.acquire(blocking=False):
            return
        if not self.redis.set(redis_keys.NLU_MODEL_CHECK + ":running", 1, nx=True, ex=60):  # another process checks
            self._running.release()
            return
        threading.Thread(target=self._run, name="model-check", daemon=True).start()

    def _run(self) -> None:
        try:
            result = check_model(self.settings)
            self.redis.set(redis_keys.NLU_MODEL_CHECK, json.dumps(result.to_dict()), ex=CHECK_TTL)
        finally:
            self.redis.delete(redis_keys.NLU_MODEL_CHECK + ":running")
            self._running.release()
