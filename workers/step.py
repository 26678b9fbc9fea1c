"""The conversation step: one accepted message through understanding, the state machine and the
store; what it wants written to Redis comes back for the lane's commit (workers/lane.py).

Everything before the commit may run twice (a worker dies, the lease runs out, another worker
takes over); everything it writes is idempotent, and the commit checks the claim, so the
customer hears the answer once.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import socket
import time
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass

import statemachine as sm
from bot.common import phones, redis_keys
from bot.customers import codes
from bot.nlu import intents
from bot.nlu.types import NluContext, NluResult
from bot.operations import activity
from bot.outreach import carts as outreach_carts
from bot.pipeline import InboundMessage, Routed, route
from bot.pipeline import keys as pkeys
from workers.perform import CALL_LINK_TTL, Applied, EffectRunner, ephemeral, lock_seconds

log = logging.getLogger("orderline.worker")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

# States whose arrival is written to the durable conversation record (with the first turn): the
# live state is in Redis, and a write per state change cost the store more than anything else.
MILESTONES = ("menu", "handoff", "greeting")


@dataclass
class Processed:
    """One message, processed in memory: what its lane must write (history, then the commit)."""

    raw: str
    msg: InboundMessage
    conv: sm.Conversation
    conv_key: str  # the conversation it was processed in
    target_key: str  # where the conversation is saved now (verification or erasure may move it)
    state_json: str  # '' deletes it
    routed: Routed
    link_phone: str
    counters: dict
    rows: list[dict]
    touch: dict | None
    activity: dict
    erased: bool = False
    link_ttl: int = 365 * 86400  # how long a link made by this message lasts
    cart: dict | None = None  # a cart left behind to remind of, or {"key"} for none (bot/outreach/carts.py)

    @property
    def moved(self) -> bool:
        """The conversation now lives under another key (verified, or erased): the lane stops here,
        and the next one opens the new key."""
        return self.erased or self.target_key != self.conv_key


def conversation_key(message: InboundMessage, linked: str | bytes | None) -> str:
    """Whose conversation: the phone a channel vouches for on every message (SMS, WhatsApp, a call,
    an integrator's `phone`), else the identity's linked phone's, else the identity's own. A shared
    contact is a turn of the chat's own conversation: it carries the cart over when it links."""
    if message.contact and message.kind != "contact":
        return f"phone:{message.contact}"
    if linked:
        return f"phone:{linked.decode() if isinstance(linked, bytes) else linked}"
    return f"id:{message.identity}"


def _personal(conv) -> tuple[str, ...]:
    """The customer's own words a reply may repeat (name, address): never sent to be translated."""
    return tuple(v for v in (conv.name, conv.address, conv.pending.get("name")) if isinstance(v, str) and v)


def parse_conversation(conv_key: str, raw) -> sm.Conversation | None:
    if not raw:
        return None
    try:
        return sm.Conversation.from_dict(json.loads(raw))
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("conversation %s unreadable (%s); starting a new one", conv_key.split(":")[0], exc)
        return None


class ConversationStep:
    """Built once per worker process; `turn` handles one mailbox entry (workers/lane.py does the I/O)."""

    def __init__(self, rt):
        self.rt = rt
        s = rt.settings
        self.effects = EffectRunner(rt)
        self.limits = sm.Limits(
            shop_name=s.SHOP_NAME, currency=s.CURRENCY, otp_ttl_seconds=s.OTP_TTL_SECONDS,
            otp_max_attempts=s.OTP_MAX_ATTEMPTS, otp_lock_seconds=s.OTP_LOCK_MINUTES * 60,
            codes=rt.codes.mode if rt.codes is not None else "", verify_ways=tuple(codes.vouching_channels(s)),
            code_countries=(s.DEFAULT_REGION, *s.OTP_ALLOWED_COUNTRIES), max_quantity=s.MAX_ITEM_QUANTITY)
        self.idle_seconds = s.IDLE_TIMEOUT_MINUTES * 60
        self.cart_keep_seconds = s.CART_KEEP_MINUTES * 60
        self.state_ttl = max(self.idle_seconds, self.cart_keep_seconds) + 86400

    def deps(self, catalog) -> sm.Deps:
        """One turn's collaborators (a customer looked up once per turn, drafts included)."""
        rt, found = self.rt, {}

        def find_customer(phone):
            if phone not in found:
                doc = rt.store.customers.find_by_phone(phone)
                found[phone] = {"id": doc["_id"], "name": doc.get("name"), "address": doc.get("address"),
                                "reminders": (doc.get("outreach") or {}).get("reminders")} if doc else None
            return dict(found[phone]) if found[phone] else None

        return sm.Deps(
            catalog=catalog, find_customer=find_customer, recent_orders=rt.store.orders.recent,
            verification_lock=lambda phone: lock_seconds(rt.redis, phone),
            normalize_phone=lambda raw: phones.normalize(raw, rt.settings.DEFAULT_REGION),
            new_code=lambda: f"{secrets.randbelow(10 ** 6):06d}", new_salt=lambda: secrets.token_hex(8),
            saved_cart=lambda phone: (self.load(f"phone:{phone}") or sm.Conversation()).cart,
            slot_booked=rt.store.slots.booked, last_order=rt.store.orders.last_placed,
        )

    def load(self, conv_key: str) -> sm.Conversation | None:
        return parse_conversation(conv_key, self.rt.redis.get(pkeys.conversation(conv_key).state))

    def turn(self, raw: str, msg: InboundMessage, conv: sm.Conversation | None, conv_key: str,
             rate_count: int) -> Processed:
        """One message against its conversation (`conv`: None if none was stored). Performs the
        effects; everything else it wants written (history, state, replies) comes back in Processed.
        `rate_count`: this conversation's messages this minute, including this one."""
        rt = self.rt
        now, t0 = time.time(), time.monotonic()  # t0: the turn's clock, shared by model calls
        control = msg.kind in sm.CONTROL_KINDS  # an operator's reply or hand-back, not the customer
        loaded = conv is not None
        conv = conv or sm.Conversation()
        state_before = conv.state
        pre_effects = []
        idle = bool(conv.updated_at and now - conv.updated_at > self.idle_seconds)
        if idle and not control:
            pre_effects = sm.idle_reset(conv, now, keep_cart=now - conv.updated_at <= self.cart_keep_seconds)
        elif msg.meta.get("session_start") and conv.state != "greeting":
            sm.idle_reset(conv, now, keep_cart=True)  # a new phone call starts at greeting; the cart stays
        started = not control and (not loaded or (idle and state_before != "handoff"))
        catalog = rt.catalog.current(fresh=msg.kind == sm.BACK_IN_STOCK)  # the restock was announced just now
        kind = msg.kind if control else self._throttle(rate_count, msg)
        limits = dataclasses.replace(self.limits, shop=rt.shop.current())  # the shop file, as edited now
        deps = self.deps(catalog)

        def turn_with(nlu) -> sm.Turn:
            return sm.Turn(text=msg.text, nlu=nlu, now=now, deps=deps, limits=limits, channel=msg.channel,
                           message_id=msg.message_id, identity=msg.identity, contact=msg.contact, kind=kind,
                           meta=msg.meta, caller_id=msg.meta.get("caller_id") if not msg.contact else None)

        nlu = NluResult(intent="unknown") if kind in sm.THROTTLED else self._understand(
            msg, conv, conv_key, control, draft=lambda reading: self._draft(conv, turn_with(reading)))
        turn = turn_with(nlu)
        outcome = sm.advance(conv, turn)
        replies = list(outcome.replies)
        applied = self.effects.apply(pre_effects + outcome.effects, turn, Applied())
        for effect, result in applied.results:
            follow = sm.resolve(conv, turn, effect, result)
            replies += follow.replies
            self.effects.apply(follow.effects, turn, applied)
        replies = sm.combine(replies)
        sm.remember(conv, msg.text, replies)
        replies = self._in_language(replies, nlu, conv, conv_key, t0)
        if applied.erased and hasattr(rt.nlu, "forget"):
            rt.nlu.forget(conv_key)  # "delete my data": the language remembered for them goes too
        rows, touch = ([], None) if applied.erased else self._record(msg, conv, nlu, replies, conv_key,
                                                                      state_before, now)
        target = conv_key if control else self._target_key(conv, msg)  # the shop's messages never move it
        completed = self._completed(conv, applied, started)
        counters = self._counters(msg, replies, applied, started, completed)
        activity = dict(channel=msg.channel, active_key=None if applied.erased else target,
                        stale_keys=(conv_key,), inbound=0 if control else 1,
                        outbound=len(replies), orders=counters.get("orders_placed", 0),
                        revenue_cents=sum(n for name, n in counters.items() if name.startswith("revenue_cents:")),
                        now=now)
        log.info("processed channel=%s state=%s->%s replies=%d ms=%.1f", msg.channel, state_before, conv.state,
                 len(replies), (time.time() - now) * 1000)
        return Processed(
            raw=raw, msg=msg, conv=conv, conv_key=conv_key, target_key=target,
            state_json="" if applied.erased else json.dumps(conv.to_dict(), separators=(",", ":")),
            routed=route(msg, [r.to_dict() for r in replies], conv.state, control=control, extra=applied.outbound),
            link_phone=applied.link_phone, counters=counters, rows=rows, touch=touch, activity=activity,
            erased=applied.erased, link_ttl=CALL_LINK_TTL if ephemeral(msg.identity) else 365 * 86400,
            cart=self._cart(conv, msg, applied, control, conv_key, target, now))

    @staticmethod
    def _completed(conv, applied: Applied, started: bool) -> bool:
        """This turn placed the conversation's first order (a conversation completes once)."""
        if started:
            conv.ordered = False  # a new conversation completes again with its first order
        completed = bool(applied.counters.get("orders_placed")) and not conv.ordered
        conv.ordered = conv.ordered or completed
        return completed

    def _cart(self, conv, msg, applied: Applied, control: bool, conv_key: str, target: str, now: float) -> dict | None:
        """What a customer's turn leaves for the cart reminders (none for the shop's own messages, nor
        when the shop sends no cart reminders)."""
        if control or not self.rt.settings.CART_REMINDER_MINUTES:
            return None
        return {"key": conv_key} if applied.erased else outreach_carts.track(target, conv, msg.identity, now)

    def _throttle(self, count: int, msg) -> str:
        """The message's kind, or 'throttled' (the first over RATE_LIMIT_PER_MINUTE: answered once)
        / 'throttled_quiet' (the rest of that minute: recorded, not acted on, no model call)."""
        over = count - self.rt.settings.RATE_LIMIT_PER_MINUTE
        if over <= 0:
            return msg.kind
        self.rt.redis.hincrby(redis_keys.STATS, f"rate_limited:{msg.channel}", 1)
        return "throttled" if over == 1 else "throttled_quiet"

    def _understand(self, msg, conv, conv_key, control: bool, draft=None):
        """What the customer means. No model call for the shop's own control messages, nor while a
        person has the conversation (the bot then listens only for 'restart'). `draft(reading)`:
        the reply that reading would get (see _draft), for the model's call to translate early."""
        if control:
            return NluResult(intent="unknown")
        if conv.state == "handoff":
            return NluResult(intent="restart" if intents.command(intents.clean(msg.text)) == "restart" else "unknown")
        return self.rt.nlu.understand(msg.text, NluContext(
            state=conv.state, step=conv.step, history=[tuple(h) for h in conv.history], customer_key=conv_key,
            max_quantity=self.limits.max_quantity, keep=_personal(conv)), draft=draft)

    @staticmethod
    def _draft(conv, turn) -> tuple[list[str], tuple[str, ...]]:
        """The replies `turn` would get, from a copy of the conversation (nothing is done or saved), and
        the customer's name and address as that turn would know them (to hold them out)."""
        copy = sm.Conversation.from_dict(deepcopy(conv.to_dict()))
        return [r.text for r in sm.advance(copy, turn).replies], _personal(copy)

    def _in_language(self, replies, nlu, conv, conv_key: str, started: float):
        """The machine speaks English; a customer who wrote in another language reads the reply in
        theirs when the model can translate it within the turn's time (else English, counted)."""
        translate = getattr(self.rt.nlu, "translate", None)
        if not replies or nlu.language == "en" or translate is None:
            return replies
        texts = translate([r.text for r in replies], nlu.language, conv_key, started, known=nlu.translated,
                          keep=_personal(conv))
        if texts is None:
            return replies
        return [dataclasses.replace(r, text=t) for r, t in zip(replies, texts)]

    def _record(self, msg, conv, nlu, replies, conv_key, state_before, now) -> tuple[list[dict], dict | None]:
        """The turn's history rows (ids derived from the message: written once however often it is
        processed) and, when the state moved, the conversation record to update."""
        base = f"{msg.channel}:{msg.message_id}"
        common = {"phone": conv.phone, "identity": msg.identity, "channel": msg.channel}
        touch = None
        if msg.kind in sm.CONTROL_KINDS:  # only what the customer is told, marked as the operator's words
            by = msg.meta.get("by", "operator") if msg.kind == sm.OPERATOR_REPLY else "bot"
            rows = [{"_id": f"{base}:out:{i}", **common, "direction": "out", "text": r.text, "intent": None,
                     "entities": {}, "state": conv.state, "at": now, "message_id": msg.message_id, "by": by}
                    for i, r in enumerate(replies)]
            if conv.state != state_before:
                touch = dict(key=conv_key, state=conv.state, channel=msg.channel, phone=conv.phone, now=now,
                             started_at=conv.started_at)
            return rows, touch
        understood = nlu.to_dict()
        entities = {k: understood[k] for k in ("items", "unknown", "ambiguous", "invalid") if understood[k]}
        rows = [{"_id": base + ":in", **common, "direction": "in", "text": msg.text, "intent": nlu.intent,
                 "entities": entities, "state": state_before, "at": msg.received_at, "message_id": msg.message_id,
                 "processed_at": now, "processed_by": WORKER_ID, "source": nlu.source}]
        rows += [{"_id": f"{base}:out:{i}", **common, "direction": "out", "text": r.text, "intent": None,
                  "entities": {}, "state": conv.state, "at": now, "message_id": msg.message_id}
                 for i, r in enumerate(replies)]
        if conv.turns == 1 or (conv.state != state_before and conv.state in MILESTONES):
            touch = dict(key=self._target_key(conv, msg), state=conv.state, channel=msg.channel, phone=conv.phone,
                         now=now, started_at=conv.started_at)
        return rows, touch

    @staticmethod
    def _target_key(conv, msg) -> str:
        return f"phone:{conv.phone}" if conv.phone else f"id:{msg.identity}"

    def _counters(self, msg, replies, applied: Applied, started: bool = False,
                  completed: bool = False) -> dict[str, int]:
        """The turn's operator counters, committed with it."""
        control = msg.kind in sm.CONTROL_KINDS
        counters = Counter(applied.counters)
        counters[f"messages_out:{msg.channel}"] = counters.get(f"messages_out:{msg.channel}", 0) + len(replies)
        if msg.kind in sm.OUTREACH_KINDS:  # a message the shop sends first: said, or found no longer true
            counters[f"outreach_{'sent' if replies else 'silent'}:{msg.kind}"] += 1
        elif control:
            counters["operator_replies" if msg.kind == sm.OPERATOR_REPLY else "handbacks"] += 1
        else:
            counters[f"turns:{msg.channel}"] = 1
            waited_ms = max(0.0, time.time() - msg.received_at) * 1000  # acceptance to answer
            counters.update(activity.latency_counters(msg.channel, waited_ms))
        if started:
            counters[f"conversations_started:{msg.channel}"] += 1
        if completed:  # a conversation completes once, however many orders it places (completed <= total)
            counters["conversations_completed"] += 1
        return dict(counters)
