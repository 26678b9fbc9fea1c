"""Performing what the conversation asked for, after its turn: the store, codes, links, counters.

Each effect is idempotent under re-processing (a worker that died mid-turn runs the turn again):
orders carry the confirming message's key, customers are keyed by phone, links and locks are SETs.
Messages to send are not sent here: they join the turn's commit, so they leave only once.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from channels.base import SYNC_CHANNELS, OutboundMessage
from statemachine import effects as fx

from bot import handoff, keys
from bot.phones import mask

log = logging.getLogger("orderline.effects")

OTP_SEND_WINDOW = 3600  # one-time codes per phone are counted over an hour
OTP_MAX_SENDS_PER_WINDOW = 6


@dataclass
class Applied:
    """What the effects add to the turn's commit, and the outcomes the conversation asked for."""

    outbound: list[OutboundMessage] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)
    link_phone: str = ""  # '' leaves the identity's link; '-' removes it
    erased: bool = False
    results: list[tuple[fx.Effect, dict]] = field(default_factory=list)


def lock_seconds(redis, phone: str) -> int:
    """How long verification of `phone` stays refused: an explicit lock, or too many codes sent."""
    ttl = redis.ttl(keys.otp_lock(phone))
    if ttl and ttl > 0:
        return int(ttl)
    sends = redis.get(keys.otp_sends(phone))
    if sends and int(sends) >= OTP_MAX_SENDS_PER_WINDOW:
        return max(1, int(redis.ttl(keys.otp_sends(phone)) or 1))
    return 0


class EffectRunner:
    def __init__(self, rt):
        self.rt = rt

    def apply(self, effects, turn, applied: Applied) -> Applied:
        for effect in effects:
            handler = getattr(self, "_" + effect.kind)
            result = handler(effect, turn, applied)
            if effect.wants_result:
                applied.results.append((effect, result))
        return applied

    def _SendCode(self, e: fx.SendCode, turn, applied: Applied):
        redis = self.rt.redis
        with redis.pipeline() as pipe:
            pipe.incr(keys.otp_sends(e.phone))
            pipe.expire(keys.otp_sends(e.phone), OTP_SEND_WINDOW, nx=True)
            pipe.execute()
        shop = self.rt.settings.SHOP_NAME
        minutes = self.rt.settings.OTP_TTL_SECONDS // 60
        applied.outbound.append(OutboundMessage(
            channel="sms", address=e.phone, reply_id=f"{turn.channel}:{turn.message_id}:code",
            text=f"{shop}: your code is {e.code}. It expires in {minutes} minutes. Never share it."))
        applied.counters["codes_sent"] += 1
        log.info("one-time code queued to=%s", mask(e.phone))

    def _LockVerification(self, e: fx.LockVerification, turn, applied: Applied):
        self.rt.redis.set(keys.otp_lock(e.phone), "1", ex=e.seconds)
        applied.counters["verification_locks"] += 1
        log.warning("verification locked phone=%s seconds=%d", mask(e.phone), e.seconds)

    def _LinkIdentity(self, e: fx.LinkIdentity, turn, applied: Applied):
        applied.link_phone = e.phone
        self.rt.store.customers.add_identity(e.phone, e.identity)

    def _SaveCustomer(self, e: fx.SaveCustomer, turn, applied: Applied) -> dict:
        doc = self.rt.store.customers.save(e.phone, e.name, e.address, e.identity)
        applied.counters["customers_registered"] += 1
        return {"id": doc["_id"], "name": doc["name"], "address": doc["address"]}

    def _UpdateCustomer(self, e: fx.UpdateCustomer, turn, applied: Applied):
        self.rt.store.customers.change_detail(e.phone, e.field, e.value, e.key, e.channel)
        applied.counters["customer_details_changed"] += 1
        log.info("customer changed their %s phone=%s", e.field, mask(e.phone))

    def _PlaceOrder(self, e: fx.PlaceOrder, turn, applied: Applied) -> dict:
        store = self.rt.store
        customer = {"_id": e.customer_id, "name": e.customer_name} if e.customer_id else None
        placement = store.orders.place(key=e.key, phone=e.phone, customer=customer,
                                       lines=e.lines, address=e.address, channel=e.channel,
                                       currency=self.rt.settings.CURRENCY, identity=turn.identity)
        result = placement.to_result()
        if placement.ok:
            applied.counters[f"revenue_cents:{e.channel}"] += result["total_cents"]
        else:
            applied.counters["orders_refused_stock"] += 1
        return result

    def _CancelOrder(self, e: fx.CancelOrder, turn, applied: Applied) -> dict:
        ok = self.rt.store.orders.cancel(e.order_id, e.phone)
        if ok:
            applied.counters["orders_cancelled"] += 1
        return {"ok": ok}

    def _EraseCustomer(self, e: fx.EraseCustomer, turn, applied: Applied):
        erase_customer(self.rt, e.phone, e.identities)
        applied.erased = True
        applied.link_phone = "-"
        applied.counters["customers_erased"] += 1

    def _RequestHandoff(self, e: fx.RequestHandoff, turn, applied: Applied):
        handoff.wait(self.rt.redis, identity=e.identity, phone=e.phone, name=e.name, text=e.text, now=turn.now)
        applied.counters["handoffs_requested"] += 1
        log.info("conversation waits for a person channel=%s from=%s", turn.channel, mask(e.phone or e.identity))

    def _EndHandoff(self, e: fx.EndHandoff, turn, applied: Applied):
        handoff.done(self.rt.redis, handoff.key_for(e.phone, e.identity))

    def _Count(self, e: fx.Count, turn, applied: Applied):
        applied.counters[e.name] += 1


def erase_customer(rt, phone: str | None, identities=()) -> dict:
    """'Delete my data': the customer, their history and links go; orders stay without their details."""
    store = rt.store
    removed = store.customers.delete(phone) if phone else None
    ids = set(identities) | set((removed or {}).get("identities", []))
    # replies kept for synchronous callers (an hour) repeat what the customer was told: they go too
    answered = {m["message_id"] for m in store.messages.for_customer(phone, ids, limit=0)
                if m.get("channel") in SYNC_CHANNELS and m.get("message_id")}
    counts = {
        "messages": store.messages.erase(phone, ids),
        "orders_anonymised": store.orders.anonymise(phone) if phone else 0,
        "conversations": store.conversations.erase(phone, [f"id:{i}" for i in ids] + ([f"phone:{phone}"] if phone else [])),
    }
    redis_keys = [keys.link(i) for i in ids] + ([keys.conversation(f"phone:{phone}")] if phone else [])
    redis_keys += [keys.conversation(f"id:{i}") for i in ids]
    redis_keys += [k for m in answered for k in (keys.reply(m), keys.reply_ready(m))]
    if redis_keys:
        rt.redis.delete(*redis_keys)
    conv_keys = [f"id:{i}" for i in ids] + ([f"phone:{phone}"] if phone else [])
    handoff.done(rt.redis, *conv_keys)  # no operator waits on a customer who is gone
    if ids:
        rt.redis.delete(*[keys.notices(i) for i in ids])
    log.info("customer erased phone=%s identities=%d", mask(phone), len(ids))
    return {"customer": removed is not None, **counts}
