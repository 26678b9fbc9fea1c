"""Starting workers: the production process (`python -m bot worker`) and the in-process one the
embedded default, the console chat and tests use.

Why SimpleWorker: a forking worker pays ~10 ms per job for the fork and cannot share the embedded
fakeredis; our drain jobs are long-lived and batched, so forking buys nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from bot.pipeline import queues
from workers import context, maintenance

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.worker")

QUEUES = (queues.MESSAGES, queues.OUTBOUND, queues.MAINTENANCE)


def _queues(redis: Redis):
    return [queues.queue(redis, name) for name in QUEUES]


def catch_up(rt: Runtime) -> None:
    """At start: kick drains and deliveries for whatever waited while no worker ran (a crash, a deploy)."""
    if rt.mailboxes.pending_count():
        queues.kick_messages(rt.redis)
    if rt.outbox.pending():
        queues.kick_outbound(rt.redis)


def run_worker(rt: Runtime, *, burst: bool = False, with_scheduler: bool = True, name: str | None = None) -> bool:
    """The production worker: blocks, handles SIGTERM by finishing the current job."""
    context.bind(rt)
    context.heartbeat()
    maintainer = maintenance.Maintainer(rt).start()
    wait = 1.0
    try:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                catch_up(rt)
                worker = SimpleWorker(_queues(rt.redis), connection=rt.redis,
                                      name=f"{name}-{attempt}" if name and attempt else name)
                return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=rt.settings.LOG_LEVEL)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                # RQ survives a lost connection while waiting for jobs, not during one (its heartbeat
                # raises out of work()); start a fresh worker once Redis answers again. The backoff
                # grows only while Redis keeps failing, not from one outage to the next.
                if time.monotonic() - started > 60:
                    wait = 1.0
                log.error("lost Redis (%s); restarting the worker in %.0f s", type(exc).__name__, wait)
                time.sleep(wait)
                wait = min(wait * 2, 30.0)
                attempt += 1
    finally:
        maintainer.stop()
        context.stop()


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a thread: signals belong to the main thread, so job timeouts use
    RQ's timer-based death penalty and no signal handlers are installed."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


class InProcessWorker:
    """Worker + maintenance in background threads of this process (embedded default, chat, tests)."""

    def __init__(self, rt: Runtime, poll: float = 0.2):
        self.rt, self.poll = rt, poll
        self._stop = threading.Event()

    def start(self) -> InProcessWorker:
        context.bind(self.rt)
        context.heartbeat()
        catch_up(self.rt)
        self._thread = threading.Thread(target=self._work, name="orderline-worker", daemon=True)
        self._thread.start()
        self._maintainer = maintenance.Maintainer(self.rt).start()
        return self

    def _work(self) -> None:
        worker = ThreadWorker(_queues(self.rt.redis), connection=self.rt.redis)
        while not self._stop.is_set():
            try:
                worker.work(burst=True, logging_level="WARNING", max_idle_time=None)
            except Exception:  # keep the dev worker alive; the traceback is logged
                log.exception("in-process worker crashed; restarting")
            self._stop.wait(self.poll)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._maintainer.stop(timeout)
        self._thread.join(timeout)
        context.stop()


def wait_idle(rt: Runtime, timeout: float = 10.0) -> bool:
    """Until no mailbox holds a message (tests, the console chat)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not rt.mailboxes.pending_count():
            return True
        time.sleep(0.02)
    return False
