"""The worker process's runtime and long-lived workers, bound once at start (`bind`, by
`python -m bot worker` or an in-process worker) so RQ job functions (workers/jobs.py, which RQ calls
with JSON arguments only) can reach them. Importing this module connects nothing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.pipeline import Heartbeat
from workers.delivery import Delivery
from workers.drain import Drainer
from workers.flush import GroupCommit
from workers.pool import LanePool
from workers.step import ConversationStep

if TYPE_CHECKING:
    from bot.runtime import Runtime

_lock = threading.Lock()
_runtime: Runtime | None = None
_parts: dict[str, Any] = {}


class NotBound(RuntimeError):
    """A job ran in a process that `python -m bot worker` did not start (plain `rq worker`)."""


def bind(runtime: Runtime, step: ConversationStep | None = None) -> None:
    """Make `runtime` (and optionally a prepared step) the process's; a no-op if already bound."""
    global _runtime
    with _lock:
        if runtime is not _runtime or step is not None:
            _runtime = runtime
            _parts.clear()
            if step is not None:
                _parts["step"] = step


def runtime() -> Runtime:
    with _lock:
        if _runtime is None:
            raise NotBound("no runtime bound: run workers with `python -m bot worker`")
        return _runtime


def _part(name: str, make: Callable[[Runtime], Any]) -> Any:
    rt = runtime()
    with _lock:
        if name not in _parts:
            _parts[name] = make(rt)
        return _parts[name]


def step() -> ConversationStep:
    """The process's ConversationStep (it caches settings-derived limits)."""
    return _part("step", ConversationStep)


def heartbeat() -> Heartbeat:
    return _part("heartbeat", lambda rt: Heartbeat(rt.redis, rt.scripts, rt.mailboxes.lease_ms).start())


def pool() -> LanePool:
    return _part("pool", lambda rt: LanePool(lanes(rt.settings)))


def lanes(settings: Settings) -> int:
    """Conversations a worker process works on at once: WORKER_CONCURRENCY, and with a language model
    at least GEMINI_CONCURRENCY, so that many customers' model calls can be in flight together."""
    return max(settings.WORKER_CONCURRENCY, settings.GEMINI_CONCURRENCY if settings.GEMINI_API_KEY else 0)


def delivery() -> Delivery:
    hb, lane_pool = heartbeat(), pool()
    return _part("delivery", lambda rt: Delivery(rt, hb, lane_pool))


def drainer() -> Drainer:
    s, hb, lane_pool, out = step(), heartbeat(), pool(), delivery()
    return _part("drainer", lambda rt: Drainer(rt, s, lane_pool, hb, GroupCommit(rt), out))


def stop() -> None:
    """Stop the heartbeat (a worker shutting down)."""
    hb = _parts.get("heartbeat")
    if hb is not None:
        hb.stop()
