"""The production-shaped stack a session of integration tests shares (see conftest.live)."""
from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from bot.common import redis_keys
from tests.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}


@dataclass
class Live:
    rt: object
    client: object
    workers: object
    env: dict
    gemini: object = None  # tests.support.fake_gemini.FakeGemini, for the live_gemini stack
    telegram: object = None  # the fake Telegram Bot API the workers' real Bot talks to
    twilio: object = None  # the fake Twilio REST API the workers' real Client talks to
    stripe: object = None  # the fake Stripe API the workers' (and this process's) real SDK talks to

    def use_shop(self, doc: dict | None) -> None:
        """Put these rules in the stack's shop file (None: the plain shop); see write_shop."""
        write_shop(self.env["SHOP_FILE"], doc)
        self.rt.shop.current()  # this process too (the webhook, the expiry sweep)

    @staticmethod
    def unique(prefix: str = "u") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def chat(self, user: str, text: str, phone: str | None = None, message_id: str | None = None) -> dict:
        body = {"user_id": user, "message": text}
        if phone:
            body["phone"] = phone
        if message_id:
            body["message_id"] = message_id
        res = self.client.post("/api/chat", data=json.dumps(body), headers=AUTH)
        data = res.get_json()
        if res.status_code == 202:
            data = self.poll(data["message_id"], user)
        elif res.status_code != 200:
            raise AssertionError(f"/api/chat answered {res.status_code}: {data}")
        return data

    def poll(self, message_id: str, user: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            res = self.client.get(f"/api/chat/{message_id}?user_id={user}", headers=AUTH)
            if res.status_code == 200:
                return res.get_json()
            time.sleep(0.05)
        raise AssertionError(f"no reply for {message_id} within {timeout}s")

    def last_code(self, phone: str, timeout: float = 10) -> str:
        """The newest one-time code texted to `phone`: through (fake) Twilio, or the dev outbox without it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = [m["Body"] for m in reversed(self.twilio.messages(phone))] if self.twilio else []
            texts += [json.loads(raw)["text"] for raw in self.rt.redis.lrange(redis_keys.DEV_OUTBOX, 0, 100)
                      if json.loads(raw)["to"] == phone]
            for text in texts:
                if "code is " in text:
                    return text.split("code is ")[1][:6]
            time.sleep(0.05)
        raise AssertionError(f"no code sent to {phone}")

    def set_step_delay(self, seconds: float) -> None:
        """Make every worker's conversation step take at least this long (to observe parallelism)."""
        if seconds:
            self.rt.redis.set("ol:test:step_delay", seconds)
        else:
            self.rt.redis.delete("ol:test:step_delay")

    @contextmanager
    def gemini_mode(self, mode: str):
        """Run with the fake Gemini "on" or "down" (connections refused), from a clean slate:
        no scripts, breaker closed, no cached readings or languages, counters at zero."""
        self.gemini.reset()
        for key in self.rt.redis.scan_iter("ol:nlu:*"):
            self.rt.redis.delete(key)
        self.rt.redis.delete(redis_keys.STATS)
        if mode == "down":
            self.gemini.stop()
        try:
            yield self
        finally:
            if self.gemini.server is None:
                self.gemini.start()
            self.gemini.reset()

    def stats(self) -> dict:
        return {k.decode(): int(v) for k, v in self.rt.redis.hgetall(redis_keys.STATS).items()}


def write_shop(path: str, doc: dict | None) -> None:
    """Rules for a stack whose SHOP_FILE is its own copy (None: the plain shop). Every process
    re-reads the file at its next turn; it is written beside and renamed over, so nobody reads half."""
    import os
    from pathlib import Path

    import yaml

    from tests.conftest import PLAIN_SHOP

    text = Path(PLAIN_SHOP).read_text() if doc is None else yaml.safe_dump(doc, sort_keys=False)
    tmp = Path(path).with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
