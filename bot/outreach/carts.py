"""Carts left behind: which conversations hold a cart, since when, and where their customer last
wrote from. Written after each customer turn (workers/flush.py); the maintenance sweep sends one
reminder per cart after CART_REMINDER_MINUTES. The conversation itself decides at its turn whether
the reminder is still true (statemachine/outreach.py): never twice, never after an order.
"""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, cast

from redis import Redis

from bot.common import redis_keys
from bot.outreach import sending
from bot.outreach.quiet import QuietHours
from bot.pipeline.keys import digest
from statemachine.flow import FLOW_STATES
from statemachine.outreach import CART_REMINDER
from statemachine.prompts import items_count

if TYPE_CHECKING:
    from bot.runtime import Runtime


def track(conv_key: str, conv, identity: str, now: float) -> dict:
    """What a customer turn leaves: a cart to remind of later, or none (emptied, ordered, reminded)."""
    if conv.phone and conv.cart and conv.state in FLOW_STATES and not conv.reminded:
        return {"key": conv_key, "identity": identity, "phone": conv.phone, "at": now, "items": len(conv.cart)}
    return {"key": conv_key}


def track_into(pipe, tracked: dict | None) -> None:
    if not tracked:
        return
    if "at" not in tracked:
        pipe.zrem(redis_keys.CARTS, tracked["key"])
        pipe.hdel(redis_keys.CARTS_INFO, tracked["key"])
        return
    pipe.zadd(redis_keys.CARTS, {tracked["key"]: tracked["at"]})
    pipe.hset(redis_keys.CARTS_INFO, tracked["key"], json.dumps(tracked))


def forget(redis: Redis, conv_keys) -> None:
    conv_keys = [k for k in conv_keys if k]
    if conv_keys:
        redis.zrem(redis_keys.CARTS, *conv_keys)
        redis.hdel(redis_keys.CARTS_INFO, *conv_keys)


def sweep(rt: Runtime, now: float | None = None, limit: int = 200) -> int:
    """Remind of the carts left for CART_REMINDER_MINUTES (not in quiet hours: they wait); each cart
    is taken by one sweeper (ZREM), and its reminder's id names the cart and its time."""
    now = time.time() if now is None else now
    minutes = rt.settings.CART_REMINDER_MINUTES
    quiet = QuietHours.of(rt)
    if not minutes or (quiet and quiet.active(now)):
        return 0
    sent = 0
    due = rt.redis.zrangebyscore(redis_keys.CARTS, "-inf", now - minutes * 60, start=0, num=limit)
    for raw_key in cast("list[bytes]", due):
        if not rt.redis.zrem(redis_keys.CARTS, raw_key):
            continue  # another sweeper took it
        raw = rt.redis.hget(redis_keys.CARTS_INFO, raw_key)
        rt.redis.hdel(redis_keys.CARTS_INFO, raw_key)
        if not raw:
            continue
        info = json.loads(raw)
        job = sending.Job(id=f"cart-{digest(info['key'])}-{int(info['at'] * 1000)}", kind=CART_REMINDER,
                       identity=info["identity"], phone=info["phone"],
                       meta={"left_at": info["at"], "template": "cart_reminder",
                             "variables": {"1": items_count(info["items"])}})
        sent += sending.send(rt, job, now) == sending.SENT
    return sent


def waiting(rt: Runtime) -> int:
    return int(rt.redis.zcard(redis_keys.CARTS))
