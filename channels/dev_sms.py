"""The embedded default's SMS: no Twilio account, so texts (one-time codes) land in a Redis list
that `python -m bot dev`, the console chat and the dev page show. Never used in production.
"""
from __future__ import annotations

import json
import time

from redis import Redis

from bot.common import redis_keys
from bot.pipeline import OutboundMessage
from channels.base import PartSent


class DevOutboxSender:
    channel = "sms"
    KEEP = 200

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def send(self, message: OutboundMessage, part_sent: PartSent | None = None) -> None:
        entry = json.dumps({"to": message.address, "text": message.text, "at": time.time()})
        with self.redis.pipeline() as pipe:
            pipe.lpush(redis_keys.DEV_OUTBOX, entry)
            pipe.ltrim(redis_keys.DEV_OUTBOX, 0, self.KEEP - 1)
            pipe.execute()

    def recent(self, to: str | None = None, limit: int = 20) -> list[dict]:
        """The last texts 'sent' (newest first), to one number or to any."""
        entries = [json.loads(e) for e in self.redis.lrange(redis_keys.DEV_OUTBOX, 0, self.KEEP - 1)]
        return [e for e in entries if to is None or e["to"] == to][:limit]

    def forget(self, phone: str) -> None:
        """Erase the texts to `phone` ("delete my data")."""
        for raw in self.redis.lrange(redis_keys.DEV_OUTBOX, 0, -1):
            if json.loads(raw).get("to") == phone:
                self.redis.lrem(redis_keys.DEV_OUTBOX, 0, raw.decode() if isinstance(raw, bytes) else raw)

    def count(self) -> int:
        return int(self.redis.llen(redis_keys.DEV_OUTBOX))

    def since(self, seen: int) -> tuple[list[dict], int]:
        """Texts 'sent' since the box held `seen` (oldest first), and how many it holds now."""
        total = self.count()
        fresh = self.redis.lrange(redis_keys.DEV_OUTBOX, 0, total - seen - 1) if total > seen else []
        return [json.loads(raw) for raw in reversed(fresh)], total
