"""Operator counters for the language model, in the shared hash `ol:stats` (HINCRBY, every process).

Names (prefix "nlu" for understanding, "translate" for replies put into the customer's language):
  <prefix>_calls                  model calls made (successful or not)
  <prefix>_fallback:<cause>       turns that fell back: timeout, error, rate_limited, breaker_open, capped,
                                  invalid (and, for translate, no_time: too little of the turn's time left)
  <prefix>_tokens_in / _out       tokens billed (prompt / answer, thinking included)
  <prefix>_latency_ms_sum / _count, <prefix>_latency_ms_le:<ms>   a latency histogram: each call is counted
                                  once, in the smallest bucket that holds it (le:inf past the last)
  nlu_invalid:<what>              parts of a model reading refused by validation (see validate.py)
  nlu_cache_hits, translate_cache_hits, nlu_offline_only (turns that never needed the model),
  nlu_answers (grounded answers passed to the customer), nlu_breaker_opened
  nlu_asked:<reason>              lines the offline parser was unsure of, by why (see cascade.py)
  translate_in_reading            replies translated inside the reading's own call (no second call)
  model_config_error              requests the API refused (4xx other than 429); the last one is kept
                                  in redis_keys.NLU_CONFIG_ERROR with the API's message
  <prefix>_fallback:config        ... and the turns read offline (or replies sent in English) because of it
"""
from __future__ import annotations

import json
import time

from redis import Redis

from bot.common import redis_keys
from bot.common.errors import ModelConfigError

LATENCY_BUCKETS_MS = (100, 250, 500, 1000, 2000, 4000, 8000)


def bucket_of(latency_ms: float) -> str:
    for edge in LATENCY_BUCKETS_MS:
        if latency_ms <= edge:
            return str(edge)
    return "inf"


class ModelStats:
    """Writes the counters above; one instance per process, shared by understanding and translation."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def count(self, name: str, n: int = 1) -> None:
        self.redis.hincrby(redis_keys.STATS, name, n)

    def call(self, prefix: str, latency_ms: float, tokens_in: int = 0, tokens_out: int = 0) -> None:
        """One model call: its cost and how long the customer waited for it."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(redis_keys.STATS, f"{prefix}_calls", 1)
        pipe.hincrby(redis_keys.STATS, f"{prefix}_tokens_in", int(tokens_in))
        pipe.hincrby(redis_keys.STATS, f"{prefix}_tokens_out", int(tokens_out))
        pipe.hincrby(redis_keys.STATS, f"{prefix}_latency_ms_sum", int(round(latency_ms)))
        pipe.hincrby(redis_keys.STATS, f"{prefix}_latency_ms_count", 1)
        pipe.hincrby(redis_keys.STATS, f"{prefix}_latency_ms_le:{bucket_of(latency_ms)}", 1)
        pipe.execute()

    def config_error(self, exc: ModelConfigError, model: str) -> None:
        """The API refused a request: count it and keep what it said for the operators' page."""
        entry = {"status": exc.status, "api_status": exc.api_status, "message": exc.api_message, "model": model,
                 "at": time.time()}
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(redis_keys.STATS, "model_config_error", 1)
        pipe.set(redis_keys.NLU_CONFIG_ERROR, json.dumps(entry), ex=7 * 86400)
        pipe.execute()


def last_config_error(redis: Redis) -> dict | None:
    """The last request the model API refused ({status, api_status, message, model, at}), or None."""
    raw = redis.get(redis_keys.NLU_CONFIG_ERROR)
    return json.loads(raw) if raw else None


def latency_percentile(stats: dict, prefix: str, fraction: float) -> float | None:
    """The bucket edge (ms) under which `fraction` of calls finished, from `ol:stats` as a dict of
    str -> int; None with no calls, inf when it lies past the last bucket. For the operators' page."""
    counts: list[tuple[float, int]] = [(edge, int(stats.get(f"{prefix}_latency_ms_le:{edge}", 0)))
                                       for edge in LATENCY_BUCKETS_MS]
    counts.append((float("inf"), int(stats.get(f"{prefix}_latency_ms_le:inf", 0))))
    total = sum(n for _, n in counts)
    if not total:
        return None
    seen = 0
    for edge, n in counts:
        seen += n
        if seen >= fraction * total:
            return float(edge)
    return float("inf")
