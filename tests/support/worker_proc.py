"""A real Orderline worker process for integration tests: `python -m tests.support.worker_proc`.

It is the production worker (SimpleWorker on the messages/outbound/maintenance queues, with RQ's
scheduler) except for its senders: SMS codes go to the dev outbox and every other channel's
replies to a Redis list the test reads (`ol:test:sent`), because no real channel is reachable.
"""
from __future__ import annotations

import json
import os
import sys
import time

from bot.config import load_settings
from bot.logs import configure
from bot.runtime import build
from channels.outbox import DevOutboxSender
from workers import context
from workers.run import run_worker
from workers.step import ConversationStep

SENT = "ol:test:sent"


class RedisListSender:
    """Records each send in Redis so the test process (another process) can assert on it."""

    def __init__(self, redis, channel: str):
        self.redis, self.channel = redis, channel

    def send(self, message) -> None:
        self.redis.rpush(SENT, json.dumps(message.to_dict()))


class SlowStep:
    """Wraps the real step with a delay a test can set (ol:test:step_delay), to observe parallelism."""

    def __init__(self, step, redis):
        self.step, self.redis = step, redis

    def process(self, identity, raw, token):
        delay = self.redis.get("ol:test:step_delay")
        if delay:
            time.sleep(float(delay))
        return self.step.process(identity, raw, token)


def main() -> int:
    settings = load_settings()
    configure(os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"))
    rt = build(settings, load_sample=False)
    rt.senders = {"sms": DevOutboxSender(rt.redis)}
    for channel in ("telegram", "whatsapp", "test"):
        rt.senders[channel] = RedisListSender(rt.redis, channel)
    context.bind(rt, step=SlowStep(ConversationStep(rt), rt.redis))
    return 0 if run_worker(rt, with_scheduler=os.environ.get("TEST_WORKER_SCHEDULER", "1") == "1",
                           name=os.environ.get("TEST_WORKER_NAME")) else 1


if __name__ == "__main__":
    sys.exit(main())
