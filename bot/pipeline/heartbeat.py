"""The heartbeat: one thread per worker process renewing the leases its lanes hold, and the
watchdog that parks a step which outlives its budget.

Why: a lease renewed only by commits runs out under a slow step, and the work is then redone by
another worker (and again, forever). Renewed every third of a lease, it runs out only when the
process died or froze. A step past its budget is not renewed but parked (by `on_overrun`, which
holds the leases), so the customer's later messages and everyone else's go on.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from bot.pipeline.leases import now_ms
from bot.pipeline.scripts import Scripts

log = logging.getLogger("orderline.heartbeat")


@dataclass(eq=False)
class Hold:
    """The leases one lane holds (claims are hashes, locks are strings), and its current step."""

    claims: list[tuple[str, str]]  # (claim key, token)
    locks: list[tuple[str, str]]  # (lock key, token)
    budget: float  # seconds one step may take
    on_overrun: Callable[[Hold], None] | None = None
    step_started: float | None = None  # monotonic; None between steps
    step_of: Any = None  # what the step works on (for on_overrun)
    abandoned: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # a renewal found a lease gone: the lane's commits will be refused

    @contextmanager
    def step(self, what: Any) -> Iterator[None]:
        self.step_of, self.step_started = what, time.monotonic()
        try:
            yield
        finally:
            self.step_started = None

    def overrun(self, now: float) -> bool:
        return self.step_started is not None and now - self.step_started > self.budget


class Heartbeat:
    def __init__(self, redis: Redis, scripts: Scripts, lease_ms: int, interval: float | None = None):
        self.redis, self.scripts, self.lease_ms = redis, scripts, lease_ms
        self.interval = interval if interval is not None else max(0.05, lease_ms / 1000 / 3)
        self._holds: set[Hold] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, claims: list[tuple[str, str]], locks: list[tuple[str, str]], budget: float,
             on_overrun: Callable[[Hold], None] | None = None) -> Hold:
        held = Hold(list(claims), list(locks), budget, on_overrun)
        with self._lock:
            self._holds.add(held)
        return held

    def drop(self, held: Hold) -> None:
        with self._lock:
            self._holds.discard(held)

    def start(self) -> Heartbeat:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="orderline-heartbeat", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # Redis away: the leases may run out; the next beat tries again
                log.exception("heartbeat failed")

    def beat(self) -> None:
        """Park what overran its budget; renew every other lease in one round trip."""
        now = time.monotonic()
        with self._lock:
            holds = list(self._holds)
        live = []
        for held in holds:
            if held.abandoned.is_set():
                continue
            if held.overrun(now) and held.on_overrun is not None:
                held.abandoned.set()
                try:
                    held.on_overrun(held)
                except Exception:
                    log.exception("could not park an overrunning step")
                continue
            live.append(held)
        claims = [(k, t, h) for h in live for k, t in h.claims]
        locks = [(k, t, h) for h in live for k, t in h.locks]
        if not claims and not locks:
            return
        got = self.scripts.renew(keys=[k for k, _, _ in claims + locks],
                                 args=[now_ms() + self.lease_ms, self.lease_ms, len(claims),
                                       *(t for _, t, _ in claims + locks)])
        for (_, _, held), ok in zip(claims + locks, got, strict=True):
            if not int(ok):
                held.lost = True
