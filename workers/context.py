"""The worker process's runtime, bound once at start so RQ job functions (which RQ calls with
JSON arguments only) can reach it. A job run under plain `rq worker` builds it from the
environment on first use; importing this module connects nothing.
"""
from __future__ import annotations

_runtime = None
_step = None


def bind(runtime, step=None) -> None:
    """Make `runtime` (and optionally a prepared step) the process's; a no-op if already bound."""
    global _runtime, _step
    if runtime is not _runtime or step is not None:
        _runtime, _step = runtime, step


def runtime():
    global _runtime
    if _runtime is None:
        from bot.config import load_settings
        from bot.runtime import build

        _runtime = build(load_settings())
    return _runtime


def step():
    """The process's ConversationStep (it caches settings-derived limits)."""
    global _step
    if _step is None:
        from .step import ConversationStep

        _step = ConversationStep(runtime())
    return _step
