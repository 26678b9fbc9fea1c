"""When each sender identity last wrote to the shop: written by ingress (scripts/accept.lua) for
every customer message it stores, never for the shop's own control messages. WhatsApp lets a
business write free text only within 24 hours of the customer's last message; the sender reads
this to choose text or an approved template *before* sending, not after a failed send.
"""
from __future__ import annotations

from redis import Redis

from bot.pipeline import keys

KEEP_SECONDS = 8 * 86400  # longer than any channel's window; the key then expires on its own


def last_inbound(redis: Redis, identity: str) -> float | None:
    """Epoch seconds of the identity's last stored message ("whatsapp:+1..."), or None if unknown."""
    raw = redis.get(keys.identity(identity).seen)
    if raw is None:
        return None
    try:
        return int(raw) / 1000
    except (TypeError, ValueError):
        return None
