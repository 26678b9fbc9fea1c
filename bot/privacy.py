"""A customer's data on request: export everything held about them, or erase it.

Erasure is the very one the customer's own "delete my data" performs (`erase_customer`):
the customer, their history, conversation and links go; their orders stay, anonymised. It runs
holding the conversation's lock, so a turn in progress cannot write the customer back afterwards.
"""
from __future__ import annotations

import json
import time
import uuid

import logging

from . import activity, handoff, keys
from .errors import TransientError
from .outreach import carts
from .phones import mask
from .pipeline import SYNC_CHANNELS, notices
from .pipeline import keys as pkeys

log = logging.getLogger("orderline.privacy")


class Busy(TransientError):
    """The customer's conversation stayed locked by a worker: try again in a moment."""


def _identities(rt, phone: str) -> list[str]:
    customer = rt.store.customers.find_by_phone(phone) or {}
    found = set(customer.get("identities", []))
    found |= {m["identity"] for m in rt.store.messages.for_customer(phone, limit=0) if m.get("identity")}
    return sorted(found)


def export(rt, phone: str) -> dict | None:
    """Everything held about the customer with this phone, as JSON-safe data; None if nothing is."""
    store, redis = rt.store, rt.redis
    customer = store.customers.find_by_phone(phone)
    ids = _identities(rt, phone)
    conv_keys = [f"phone:{phone}"] + [f"id:{i}" for i in ids]
    live = {}
    for key in conv_keys:
        raw = redis.get(pkeys.conversation(key).state)
        if raw:
            live[key] = json.loads(raw)
    data = {
        "phone": phone,
        "exported_at": time.time(),
        "customer": customer,
        "orders": [_plain(o) for o in store.orders.find({"phone": phone}, limit=0)],
        "messages": sorted((_plain(m) for m in store.messages.for_customer(phone, ids, limit=0)),
                           key=lambda m: m["at"]),
        "conversation_state": live,
        "conversation_records": store.conversations.for_customer(phone, conv_keys),
        "channel_identities": ids,
        "waiting_for_a_person": [h for h in (handoff.get(redis, k) for k in conv_keys) if h],
        "notices": {i: n for i in ids if (n := notices.peek(redis, i))},
    }
    held = customer or data["orders"] or data["messages"] or live or data["conversation_records"]
    return data if held else None


def erase(rt, phone: str, wait_seconds: float = 5.0) -> dict | None:
    """The customer's own 'delete my data', done by an operator. None if nothing was held."""
    token, key = "erase-" + uuid.uuid4().hex, f"phone:{phone}"
    deadline = time.monotonic() + wait_seconds
    while not rt.mailboxes.lock(key, token):
        if time.monotonic() > deadline:
            raise Busy("the customer's conversation is busy; try again")
        time.sleep(0.05)
    try:
        ids = _identities(rt, phone)
        counts = erase_customer(rt, phone, ids)
        if not (counts["customer"] or counts["messages"] or counts["orders_anonymised"] or counts["conversations"]):
            return None
        rt.redis.hincrby(keys.STATS, "customers_erased", 1)
        activity.forget_conversations(rt.redis, [key] + [f"id:{i}" for i in ids])
        return {**counts, "identities": len(ids)}
    finally:
        rt.mailboxes.unlock(key, token)


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "holds"}


def erase_customer(rt, phone: str | None, identities=()) -> dict:
    """'Delete my data': the customer, their history and links go; orders stay without their details."""
    store = rt.store
    removed = store.customers.delete(phone) if phone else None
    ids = set(identities) | set((removed or {}).get("identities", []))
    # replies kept for synchronous callers (an hour) repeat what the customer was told: they go too
    answered = {m["message_id"] for m in store.messages.for_customer(phone, ids, limit=0)
                if m.get("channel") in SYNC_CHANNELS and m.get("message_id")}
    conv_keys = [f"id:{i}" for i in ids] + ([f"phone:{phone}"] if phone else [])
    counts = {
        "messages": store.messages.erase(phone, ids),
        "orders_anonymised": store.orders.anonymise(phone) if phone else 0,
        "conversations": store.conversations.erase(phone, conv_keys),
    }
    redis_keys = [pkeys.identity(i).link for i in ids] + [pkeys.conversation(k).state for k in conv_keys]
    if redis_keys:
        rt.redis.delete(*redis_keys)
    rt.outbox.forget_replies(answered)
    handoff.done(rt.redis, *conv_keys)  # no operator waits on a customer who is gone
    carts.forget(rt.redis, conv_keys)  # and no cart of theirs is reminded of
    notices.forget(rt.redis, ids)
    log.info("customer erased phone=%s identities=%d", mask(phone), len(ids))
    return {"customer": removed is not None, **counts}
