"""The worker process's runtime and long-lived workers, bound once at start so RQ job functions
(which RQ calls with JSON arguments only) can reach them. A job run under plain `rq worker` builds
them from the environment on first use; importing this module connects nothing.
"""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_runtime: Any = None
_parts: dict[str, Any] = {}


def bind(runtime: Any, step: Any = None) -> None:
    """Make `runtime` (and optionally a prepared step) the process's; a no-op if already bound."""
    global _runtime
    with _lock:
        if runtime is not _runtime or step is not None:
            _runtime = runtime
            _parts.clear()
            if step is not None:
                _parts["step"] = step


def runtime() -> Any:
    global _runtime
    with _lock:
        if _runtime is None:
            from bot.config import load_settings
            from bot.runtime import build

            _runtime = build(load_settings())
        return _runtime


def _part(name: str, make) -> Any:
    rt = runtime()
    with _lock:
        if name not in _parts:
            _parts[name] = make(rt)
        return _parts[name]


def step() -> Any:
    """The process's ConversationStep (it caches settings-derived limits)."""
    from workers.step import ConversationStep

    return _part("step", ConversationStep)


def heartbeat() -> Any:
    from bot.pipeline import Heartbeat

    return _part("heartbeat", lambda rt: Heartbeat(rt.redis, rt.scripts, rt.mailboxes.lease_ms).start())


def pool() -> Any:
    from workers.pool import LanePool

    return _part("pool", lambda rt: LanePool(lanes(rt.settings)))


def lanes(settings) -> int:
    """Conversations a worker process works on at once: WORKER_CONCURRENCY, and with a language model
    at least GEMINI_CONCURRENCY, so that many customers' model calls can be in flight together."""
    return max(settings.WORKER_CONCURRENCY, settings.GEMINI_CONCURRENCY if settings.GEMINI_API_KEY else 0)


def delivery() -> Any:
    from workers.delivery import Delivery

    hb, lanes = heartbeat(), pool()
    return _part("delivery", lambda rt: Delivery(rt, hb, lanes))


def drainer() -> Any:
    from workers.drain import Drainer
    from workers.flush import GroupCommit

    s, hb, lanes, out = step(), heartbeat(), pool(), delivery()
    return _part("drainer", lambda rt: Drainer(rt, s, lanes, hb, GroupCommit(rt), out))


def stop() -> None:
    """Stop the heartbeat (a worker shutting down)."""
    hb = _parts.get("heartbeat")
    if hb is not None:
        hb.stop()
