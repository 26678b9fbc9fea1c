"""A real Orderline worker process for integration tests: `python -m tests.support.worker_proc`.

It is the production worker (SimpleWorker on the messages/outbound/maintenance queues, with RQ's
scheduler) with the production senders: the real Telegram Bot and Twilio Client, pointed by the
test's environment (TELEGRAM_API_URL, TWILIO_API_URL) at fake APIs the test process serves and
reads. Without Twilio settings, SMS (one-time codes) go to the dev outbox.
"""
from __future__ import annotations

import os
import sys
import time

from bot.common.logs import configure
from bot.config import load_settings
from bot.runtime import build
from channels.dev_sms import DevOutboxSender
from workers import context
from workers.run import run_worker
from workers.step import ConversationStep


class SlowStep:
    """Wraps the real step with a delay a test can set (ol:test:step_delay), to observe parallelism."""

    def __init__(self, step, redis):
        self.step, self.redis = step, redis

    def turn(self, *args, **kwargs):
        delay = self.redis.get("ol:test:step_delay")
        if delay:
            time.sleep(float(delay))
        return self.step.turn(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.step, name)


def main() -> int:
    settings = load_settings()
    configure(os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"))
    rt = build(settings, load_sample=False)
    rt.senders.setdefault("sms", DevOutboxSender(rt.redis))
    context.bind(rt, step=SlowStep(ConversationStep(rt), rt.redis))
    return 0 if run_worker(rt, with_scheduler=os.environ.get("TEST_WORKER_SCHEDULER", "1") == "1",
                           name=os.environ.get("TEST_WORKER_NAME")) else 1


if __name__ == "__main__":
    sys.exit(main())
