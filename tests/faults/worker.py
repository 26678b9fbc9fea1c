"""A worker process with fault hooks, for the fault suite: `python -m tests.faults.worker`.

The production worker (SimpleWorker, real step, real store) plus: replies to async channels are
recorded in Redis (`ol:test:sent`, each send taking `ol:test:send_delay` = "low,high" seconds), and
Redis keys set by the test make it pause at a chosen point so the test can kill -9 it there:
`ol:test:pause:step` (before the conversation step) or `ol:test:pause:commit` (after the store
effects, before the commit). While paused it writes its pid and the message to `ol:test:paused`.
`ol:test:store_faults` = "rate" makes store calls fail; `ol:test:step_delay` makes every step that
slow; `ol:test:hang_on` = a text makes the step on that text never finish.
"""
from __future__ import annotations

import inspect
import json
import os
import random
import sys
import time

from bot.common.errors import PermanentSendError, StoreUnavailable
from bot.common.logs import configure
from bot.config import load_settings
from bot.runtime import build
from channels.dev_sms import DevOutboxSender
from workers import context
from workers.run import run_worker
from workers.step import ConversationStep

SENT = "ol:test:sent"


class RecordingSender:
    def __init__(self, redis, channel):
        self.redis, self.channel = redis, channel

    def send(self, message, part_sent=None) -> None:
        delay = self.redis.get("ol:test:send_delay")  # "low,high": each send takes a random time in it
        if delay:
            low, high = (float(x) for x in delay.decode().split(","))
            time.sleep(random.uniform(low, high))
        if self.redis.srem("ol:test:refuse_once", message.address):  # the channel refuses it, once
            raise PermanentSendError("the channel refused this recipient (test)")
        self.redis.rpush(SENT, json.dumps(message.to_dict()))


def pause_if_asked(redis, point: str, raw: str) -> None:
    seconds = redis.get(f"ol:test:pause:{point}")
    if seconds:
        redis.set("ol:test:paused", json.dumps({"pid": os.getpid(), "point": point, "message": json.loads(raw)}))
        time.sleep(float(seconds))


class FaultyStep:
    def __init__(self, rt):
        self.rt, self.step = rt, ConversationStep(rt)
        commit_into = rt.mailboxes.commit_into

        def paused_commit(pipe, commit):
            pause_if_asked(rt.redis, "commit", commit.head)
            return commit_into(pipe, commit)

        rt.mailboxes.commit_into = paused_commit

    def turn(self, raw, *args, **kwargs):
        pause_if_asked(self.rt.redis, "step", raw)
        delay = self.rt.redis.get("ol:test:step_delay")  # every step takes this long (a slow model)
        if delay:
            time.sleep(float(delay))
        hang = self.rt.redis.get("ol:test:hang_on")  # a step on this text never finishes (a poison)
        if hang and json.loads(raw)["text"] == hang.decode():
            time.sleep(3600)
        return self.step.turn(raw, *args, **kwargs)

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
    settings = load_settings()
    configure(os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"))
    rt = build(settings, load_sample=False)
    rt.senders = {"sms": DevOutboxSender(rt.redis)}
    for channel in ("whatsapp", "telegram", "sms"):
        rt.senders[channel] = RecordingSender(rt.redis, channel)
    inject_store_faults(rt)
    context.bind(rt, step=FaultyStep(rt))
    drainer = context.drainer()
    failed = drainer.failed

    def failed_with_test_window(msg, exc, transient):
        window = rt.redis.get("ol:test:retry_window")  # a test shortens the retry window live
        drainer.retry_window = float(window) if window else rt.settings.RETRY_WINDOW_SECONDS
        return failed(msg, exc, transient)

    drainer.failed = failed_with_test_window
    return 0 if run_worker(rt, with_scheduler=True, name=os.environ.get("TEST_WORKER_NAME")) else 1


if __name__ == "__main__":
    sys.exit(main())
