"""Per-customer state around model calls, in Redis so every process agrees: the cap on calls per
minute, the short cache of readings, and the language the customer last wrote in.

Customers are named here by `who`, a hash of the conversation key, so no phone number ends up in
a key name. Cached readings hold only intents, catalog skus and quantities, and are keyed by the
whole prompt context (recent turns and candidate products included, see prompt.ReadingPrompt), so
"two more of those" from two customers never shares a reading; a reading with an answer is served
from the cache to the same customer only.
"""
from __future__ import annotations

import hashlib
import json
import time

from redis import Redis

from bot.common import redis_keys
from bot.nlu.types import NluResult


def who(customer_key: str) -> str:
    return hashlib.sha256(f"orderline-nlu:{customer_key}".encode()).hexdigest()[:20]


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


class CallCap:
    """At most `per_minute` model calls per customer per clock minute (understanding and translation)."""

    def __init__(self, redis: Redis, per_minute: int):
        self.redis, self.per_minute = redis, per_minute

    def take(self, customer: str) -> bool:
        key = redis_keys.nlu_cap(customer, int(time.time() // 60))
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 120)
        used, _ = pipe.execute()
        return used <= self.per_minute


class ReadingCache:
    """Validated readings of identical prompts (catalog, FAQ, state, step, recent turns, candidate
    products, the line), for `seconds`."""

    def __init__(self, redis: Redis, seconds: int):
        self.redis, self.seconds = redis, seconds

    def get(self, key: str, customer: str) -> NluResult | None:
        if not self.seconds:
            return None
        raw = self.redis.get(redis_keys.nlu_cache(key))
        if not raw:
            return None
        entry = json.loads(raw)
        if entry.get("who") and entry["who"] != customer:
            return None  # an answer is only ever repeated to the customer it was given to
        return NluResult.from_dict(entry["result"])

    def put(self, key: str, customer: str, result: NluResult) -> None:
        if self.seconds:
            entry = {"result": result.to_dict(), "who": customer if result.answer else ""}
            self.redis.set(redis_keys.nlu_cache(key), json.dumps(entry), ex=self.seconds)


class LanguageMemory:
    """The customer's language, so a reply to "2" or to a code stays in it."""

    TTL = 24 * 3600

    def __init__(self, redis: Redis):
        self.redis = redis

    def get(self, customer: str) -> str:
        raw = self.redis.get(redis_keys.nlu_language(customer))
        return (raw.decode() if isinstance(raw, bytes) else raw) if raw else "en"

    def set(self, customer: str, language: str) -> None:
        self.redis.set(redis_keys.nlu_language(customer), language, ex=self.TTL)

    def forget(self, customer: str) -> None:
        self.redis.delete(redis_keys.nlu_language(customer))
