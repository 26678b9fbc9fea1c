"""The whole pipeline in this process, synchronously: ingress -> mailbox -> drain -> lane -> step ->
commit -> reply (and delivery).

Only RQ's hop is skipped and lanes run one after another in the caller's thread, so unit-tier
tests are deterministic and fast; integration tests run the same code through RQ on a real
Redis with real worker processes and a lane pool.
"""
from __future__ import annotations

import json
import time
import uuid

from bot.common import redis_keys
from bot.pipeline import Heartbeat, InboundMessage
from bot.pipeline import keys as pkeys
from workers.delivery import Delivery
from workers.drain import Drainer
from workers.flush import GroupCommit
from workers.pool import LanePool
from workers.step import ConversationStep


class Pipeline:
    def __init__(self, rt):
        self.rt = rt
        self.step = ConversationStep(rt)
        self.heartbeat = Heartbeat(rt.redis, rt.scripts, rt.mailboxes.lease_ms)
        self.delivery = Delivery(rt, self.heartbeat)
        self.drainer = Drainer(rt, self.step, LanePool(4, inline=True), self.heartbeat, GroupCommit(rt),
                               self.delivery)

    def send(self, text: str, *, user: str = "u1", channel: str = "api", phone: str | None = None,
             message_id: str | None = None, kind: str = "text", address: str | None = None) -> str:
        message_id = message_id or uuid.uuid4().hex
        self.rt.ingress.accept(InboundMessage(channel=channel, message_id=message_id, address=address or user,
                                              text=text, contact=phone, kind=kind))
        return message_id

    def drain(self) -> int:
        return self.drainer.run(budget_seconds=5)

    def say(self, text: str, **kw) -> dict:
        """Send one message, process it, and return the reply document the caller would get."""
        message_id = self.send(text, **kw)
        self.drain()
        reply = self.rt.ingress.reply(message_id)
        assert reply is not None, f"no reply for {text!r}"
        return reply

    def texts(self, text: str, **kw) -> str:
        return "\n".join(r["text"] for r in self.say(text, **kw)["replies"])

    def deliver(self) -> int:
        return self.delivery.run(budget_seconds=2)

    def last_code(self, phone: str, timeout: float = 0) -> str | None:
        """The newest code texted to `phone` (waiting up to `timeout` for a worker thread to send it)."""
        deadline = time.monotonic() + timeout
        while True:
            for raw in self.rt.redis.lrange(redis_keys.DEV_OUTBOX, 0, 50):
                entry = json.loads(raw)
                if entry["to"] == phone:
                    return entry["text"].split("code is ")[1][:6]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)

    def conversation(self, key: str) -> dict | None:
        raw = self.rt.redis.get(pkeys.conversation(key).state)
        return json.loads(raw) if raw else None
