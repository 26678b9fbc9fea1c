"""Orderline's bench worker: the production worker (`run_worker`: SimpleWorker, real step, real
store, real outbound delivery) whose channel senders only count what is handed to them, with the
reply's latency (customer message accepted -> reply handed to the sender)."""
from __future__ import annotations

import sys
import time

from bot.config import load_settings
from bot.logs import configure
from bot.runtime import build
from workers.run import run_worker

DONE = "bench:done"


class CountingSender:
    def __init__(self, redis, channel):
        self.redis, self.channel = redis, channel

    def send(self, message) -> None:
        self.redis.rpush(DONE, f"{(time.time() - message.received_at) * 1000:.3f}")


def main() -> int:
    settings = load_settings()
    configure("WARNING")
    rt = build(settings, load_sample=False)
    rt.senders = {ch: CountingSender(rt.redis, ch) for ch in ("sms", "whatsapp", "telegram")}
    return 0 if run_worker(rt, with_scheduler=False) else 1


if __name__ == "__main__":
    sys.exit(main())
