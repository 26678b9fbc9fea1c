"""A circuit breaker in Redis, shared by every web and worker process.

Closed: calls go through; each failure adds to a count that a success resets. After `failures`
in a row it opens: nobody calls the model for `cooldown` seconds (customers get the offline
parser at once instead of waiting for timeouts). Then it is half-open: one process wins the probe
(SET NX); its success closes the breaker, its failure opens it for another cool-down.
"""
from __future__ import annotations

from collections.abc import Callable

from redis import Redis

from bot.common import redis_keys


class Breaker:
    def __init__(self, redis: Redis, failures: int = 5, cooldown_seconds: int = 30, probe_seconds: float = 10,
                 on_open: Callable[[], None] | None = None):
        self.redis = redis
        self.threshold, self.cooldown = failures, cooldown_seconds
        self.probe_ms = int(probe_seconds * 1000)
        self.on_open = on_open  # called once each time the breaker opens (a counter)

    def allow(self) -> bool:
        """May this process call the model now?"""
        if self.redis.exists(redis_keys.NLU_BREAKER_OPEN):
            return False
        if self.redis.exists(redis_keys.NLU_BREAKER_TRIPPED):  # half-open: exactly one probe at a time
            return bool(self.redis.set(redis_keys.NLU_BREAKER_PROBE, 1, nx=True, px=self.probe_ms))
        return True

    def success(self) -> None:
        self.redis.delete(redis_keys.NLU_BREAKER_FAILURES, redis_keys.NLU_BREAKER_TRIPPED, redis_keys.NLU_BREAKER_PROBE)

    def failure(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(redis_keys.NLU_BREAKER_FAILURES)
        pipe.expire(redis_keys.NLU_BREAKER_FAILURES, max(60, self.cooldown * 10))
        pipe.exists(redis_keys.NLU_BREAKER_TRIPPED)
        count, _, probing = pipe.execute()
        if probing or count >= self.threshold:
            self.open()

    def open(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(redis_keys.NLU_BREAKER_OPEN, 1, nx=True, ex=self.cooldown)
        pipe.set(redis_keys.NLU_BREAKER_TRIPPED, 1, ex=max(86400, self.cooldown * 10))
        pipe.delete(redis_keys.NLU_BREAKER_PROBE, redis_keys.NLU_BREAKER_FAILURES)
        opened = pipe.execute()[0]
        if opened and self.on_open:
            self.on_open()

    def state(self) -> str:
        """closed | open | half_open, for operators and tests."""
        if self.redis.exists(redis_keys.NLU_BREAKER_OPEN):
            return "open"
        return "half_open" if self.redis.exists(redis_keys.NLU_BREAKER_TRIPPED) else "closed"
