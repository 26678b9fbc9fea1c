"""The functions RQ runs, by name (bot/pipeline/queues.py and workers/retention.py enqueue them):
each takes JSON arguments only and reaches the worker process's runtime through `context`."""
from __future__ import annotations

import time

from workers import context, retention


def drain_messages(budget_seconds: float = 10.0) -> int:
    """Process due mailboxes for up to `budget_seconds`; returns messages processed."""
    return context.drainer().run(budget_seconds)


def deliver(budget_seconds: float = 10.0) -> int:
    """Send what is due for up to `budget_seconds`; returns how many replies were sent."""
    return context.delivery().run(budget_seconds)


def purge_history() -> dict:
    """The daily retention run: purge old history, then schedule tomorrow's run."""
    rt = context.runtime()
    try:
        return retention.purge(rt)
    finally:
        retention.schedule(rt.redis, after=time.time() + 60)
