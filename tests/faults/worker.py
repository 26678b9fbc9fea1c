"""A worker process with fault hooks, for the fault suite: `python -m tests.faults.worker`.

The production worker (SimpleWorker, real step, real store) plus: replies to async channels are
recorded in Redis (`ol:test:sent`), and Redis keys set by the test make it pause at a chosen point
so the test can kill -9 it there: `ol:test:pause:step` (before the conversation step) or
`ol:test:pause:commit` (after the store effects, before the commit). While paused it writes its
pid and the message to `ol:test:paused`. `ol:test:store_faults` = "rate,seed" makes store calls fail.
"""
from __future__ import annotations

import inspect
import json
import os
import random
import sys
import time

from bot.config import load_settings
from bot.errors import StoreUnavailable
from bot.logs import configure
from bot.runtime import build
from channels.outbox import DevOutboxSender
from workers import context
from workers.run import run_worker
from workers.step import ConversationStep

SENT = "ol:test:sent"


class RecordingSender:
    def __init__(self, redis, channel):
        self.redis, self.channel = redis, channel

    def send(self, message) -> None:
        self.redis.rpush(SENT, json.dumps(message.to_dict()))


def pause_if_asked(redis, point: str, raw: str) -> None:
    seconds = redis.get(f"ol:test:pause:{point}")
    if seconds:
        redis.set("ol:test:paused", json.dumps({"pid": os.getpid(), "point": point, "message": json.loads(raw)}))
        time.sleep(float(seconds))


class FaultyStep:
    def __init__(self, rt):
        self.rt, self.step = rt, ConversationStep(rt)
        commit_many = rt.mailboxes.commit_many

        def paused_commit(commits, after=None):
            for c in commits:
                pause_if_asked(rt.redis, "commit", c.head)
            return commit_many(commits, after)

        rt.mailboxes.commit_many = paused_commit

    def turn(self, identity, raw, *args, **kwargs):
        pause_if_asked(self.rt.redis, "step", raw)
        return self.step.turn(identity, raw, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.step, name)


def inject_store_faults(rt) -> None:
    """Make every repository call fail with probability `rate` (set in Redis by the test)."""
    rng = random.Random(os.getpid())
    for repo in (rt.store.customers, rt.store.orders, rt.store.messages, rt.store.conversations, rt.store.products):
        for name in [n for n in dir(repo) if not n.startswith("_") and inspect.ismethod(getattr(repo, n))]:
            original = getattr(repo, name)

            def faulty(*a, _original=original, **k):
                rate = rt.redis.get("ol:test:store_faults")
                if rate and rng.random() < float(rate):
                    raise StoreUnavailable("injected: MongoDB unavailable")
                return _original(*a, **k)

            setattr(repo, name, faulty)


def main() -> int:
    if os.environ.get("FAULT_MAX_TRANSIENT_ATTEMPTS"):  # park sooner than production, to keep the suite short
        from workers import drain
        drain.MAX_TRANSIENT_ATTEMPTS = int(os.environ["FAULT_MAX_TRANSIENT_ATTEMPTS"])
    settings = load_settings()
    configure(os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"))
    rt = build(settings, load_sample=False)
    rt.senders = {"sms": DevOutboxSender(rt.redis)}
    for channel in ("whatsapp", "telegram"):
        rt.senders[channel] = RecordingSender(rt.redis, channel)
    inject_store_faults(rt)
    context.bind(rt, step=FaultyStep(rt))
    return 0 if run_worker(rt, with_scheduler=True, name=os.environ.get("TEST_WORKER_NAME")) else 1


if __name__ == "__main__":
    sys.exit(main())
