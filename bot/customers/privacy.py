"""A customer's data on request: export everything held about them, or erase it.

Both select by phone. A row carrying another phone is never returned or deleted, whichever
identity wrote it: an integrator's identity (a call centre, a shop's tablet) that serves many
phones writes rows for each, and one customer's export or erasure must not reach the others'.
What carries no phone (what a chat wrote before it proved a number, its link, its notices, its
unverified conversation) is taken only from identities linked to this phone now ("own"
identities: a Telegram chat or an integrator's user that proved this number, and the number's
own SMS, WhatsApp and call identities). Notices held for a shared identity are taken only when
they are about this phone.

Erasure is the very one the customer's own "delete my data" performs (`erase_customer`): the
customer, their history, conversation, links, notices and dead letters go; their orders stay,
anonymised. It runs holding the conversation's lock, so a turn in progress cannot write the
customer back afterwards.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.common import redis_keys as keys
from bot.common.errors import TransientError
from bot.common.phones import mask
from bot.customers import handoff
from bot.operations import activity
from bot.outreach import carts
from bot.pipeline import SYNC_CHANNELS, notices
from bot.pipeline import keys as pkeys

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.privacy")


class Busy(TransientError):
    """The customer's conversation stayed locked by a worker: try again in a moment."""


@dataclass(frozen=True)
class Scope:
    """Whose data is whose, for one phone."""

    phone: str
    seen: frozenset[str]  # every identity that wrote a row for this phone, or is listed on the customer
    linked: frozenset[str]  # identities whose link points at this phone now
    own: frozenset[str]  # linked ones, and the phone's own channel identities (sms:+1..., voice:+1...)

    @property
    def shared(self) -> frozenset[str]:
        return self.seen - self.own

    @property
    def conversation_keys(self) -> list[str]:
        return [f"phone:{self.phone}"] + [f"id:{i}" for i in sorted(self.linked)]


def scope(rt: Runtime, phone: str, also=()) -> Scope:
    """`also`: identities to consider besides those the store knows (the one asking to be forgotten)."""
    customer = rt.store.customers.find_by_phone(phone) or {}
    seen = sorted(set(customer.get("identities", [])) | set(rt.store.messages.identities_of(phone)) | set(also))
    links = rt.redis.mget([pkeys.identity(i).link for i in seen]) if seen else []
    linked = {i for i, link in zip(seen, links, strict=True) if link is not None and _text(link) == phone}
    own = linked | {i for i in seen if i.partition(":")[2] == phone}
    return Scope(phone, frozenset(seen), frozenset(linked), frozenset(own))


def export(rt: Runtime, phone: str) -> dict | None:
    """Everything held about the customer with this phone, as JSON-safe data; None if nothing is."""
    store, redis = rt.store, rt.redis
    customer = store.customers.find_by_phone(phone)
    s = scope(rt, phone)
    live = {}
    for key in s.conversation_keys:
        raw = redis.get(pkeys.conversation(key).state)
        if raw:
            live[key] = json.loads(raw)
    held_notices = {i: n for i in sorted(s.own) if (n := notices.peek(redis, i))}
    held_notices.update({i: n for i in sorted(s.shared) if (n := notices.about(redis, i, phone))})
    data = {
        "phone": phone,
        "exported_at": time.time(),
        "customer": customer,
        "orders": [_plain(o) for o in store.orders.find({"phone": phone}, limit=0)],
        "messages": sorted((_plain(m) for m in store.messages.for_customer(phone, s.linked, limit=0)),
                           key=lambda m: m["at"]),
        "conversation_state": live,
        "conversation_records": store.conversations.for_customer(phone, s.conversation_keys[1:]),
        "channel_identities": sorted(s.seen),
        "waiting_for_a_person": [h for h in (handoff.get(redis, k) for k in s.conversation_keys) if h],
        "notices": held_notices,
    }
    held = customer or data["orders"] or data["messages"] or live or data["conversation_records"]
    return data if held else None


def erase(rt: Runtime, phone: str, wait_seconds: float = 5.0) -> dict | None:
    """The customer's own 'delete my data', done by an operator. None if nothing was held."""
    token, key = "erase-" + uuid.uuid4().hex, f"phone:{phone}"
    deadline = time.monotonic() + wait_seconds
    while not rt.mailboxes.lock(key, token):
        if time.monotonic() > deadline:
            raise Busy("the customer's conversation is busy; try again")
        time.sleep(0.05)
    try:
        counts = erase_customer(rt, phone)
        counts.pop("unlinked")
        if not (counts["customer"] or counts["messages"] or counts["orders_anonymised"] or counts["conversations"]):
            return None
        rt.redis.hincrby(keys.STATS, "customers_erased", 1)
        return counts
    finally:
        rt.mailboxes.unlock(key, token)


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "holds"}


def erase_customer(rt: Runtime, phone: str | None, identities=()) -> dict:
    """'Delete my data': the customer, their history and links go; orders stay without their details.
    `identities`: the one asking (it may not be known to the store yet). Returns counts, and in
    `unlinked` the identities whose link to this phone was removed."""
    if not phone:
        return {"customer": False, "messages": 0, "orders_anonymised": 0, "conversations": 0, "identities": 0,
                "dead_letters": 0, "unlinked": []}
    store, redis = rt.store, rt.redis
    s = scope(rt, phone, also=identities)
    # replies kept for synchronous callers (an hour) repeat what the customer was told: they go too
    answered = {m["message_id"] for m in store.messages.for_customer(phone, s.linked, limit=0)
                if m.get("channel") in SYNC_CHANNELS and m.get("message_id")}
    removed = store.customers.delete(phone)
    counts = {
        "customer": removed is not None,
        "messages": store.messages.erase(phone, s.linked),
        "orders_anonymised": store.orders.anonymise(phone),
        "conversations": store.conversations.erase(phone, s.conversation_keys[1:]),
        "identities": len(s.own),
    }
    redis_keys = [pkeys.identity(i).link for i in s.linked] + [pkeys.conversation(k).state for k in s.conversation_keys]
    redis.delete(*redis_keys)
    rt.outbox.forget_replies(answered)
    handoff.done(redis, *s.conversation_keys)  # no operator waits on a customer who is gone
    carts.forget(redis, s.conversation_keys)  # and no cart of theirs is reminded of
    notices.forget(redis, s.own)
    notices.forget_about(redis, s.shared, phone)
    activity.forget_conversations(redis, s.conversation_keys)
    counts["dead_letters"] = rt.deadletters.erase(phone, s.own)
    _forget_dev_texts(rt, phone)
    log.info("customer erased phone=%s identities=%d", mask(phone), len(s.own))
    return {**counts, "unlinked": sorted(s.linked)}


def _forget_dev_texts(rt: Runtime, phone: str) -> None:
    """The embedded default's stand-in for SMS (channels/dev_sms.py, the list the dev page shows)
    forgets this number too; a real SMS sender keeps nothing to forget."""
    forget = getattr(rt.sender("sms"), "forget", None)
    if forget is not None:
        forget(phone)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
