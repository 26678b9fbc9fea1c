"""The whole pipeline in this process, synchronously: ingress -> mailbox -> drain -> step -> commit.

Only RQ's hop is skipped (the drain runs inline), so unit-tier tests are deterministic and fast;
integration tests run the same code through RQ on a real Redis with real worker processes.
"""
from __future__ import annotations

import json
import uuid

from bot import keys
from channels.base import InboundMessage
from workers.drain import Drainer
from workers.outbound import Delivery
from workers.step import ConversationStep


class Pipeline:
    def __init__(self, rt):
        self.rt = rt
        self.step = ConversationStep(rt)
        self.drainer = Drainer(rt, self.step)

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
        return Delivery(self.rt).run(budget_seconds=2)

    def last_code(self, phone: str) -> str | None:
        for raw in self.rt.redis.lrange(keys.DEV_OUTBOX, 0, 50):
            entry = json.loads(raw)
            if entry["to"] == phone:
                return entry["text"].split("code is ")[1][:6]
        return None

    def conversation(self, key: str) -> dict | None:
        raw = self.rt.redis.get(keys.conversation(key))
        return json.loads(raw) if raw else None
