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
import secrets
import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import statemachine as sm
from bot.common import phones, redis_keys
from bot.customers import codes
from bot.nlu import intents
from bot.nlu.types import NluContext, NluResult
from bot.outreach import carts as outreach_carts
from bot.pipeline import InboundMessage, Routed, route
from bot.pipeline import keys as pkeys
from workers import record
from workers.perform import CALL_LINK_TTL, Applied, EffectRunner, ephemeral, lock_seconds

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.shop.catalog import Catalog

log = logging.getLogger("orderline.worker")


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


@dataclass
class Frame:
    """What holds for a whole turn, decided before its message is read."""

    conv: sm.Conversation
    now: float
    clock: float  # time.monotonic() at the start: the turn's budget, shared by model calls
    control: bool  # an operator's reply, a hand-back or a message the shop sends first
    started: bool  # a new conversation (none stored, or idle and reset)
    state_before: str
    kind: str  # the message's kind, or throttled / throttled_quiet
    limits: sm.Limits
    deps: sm.Deps
    pre_effects: list[sm.Effect] = field(default_factory=list)  # an idle reset's

    def turn(self, msg: InboundMessage, nlu: NluResult) -> sm.Turn:
        return sm.Turn(text=msg.text, nlu=nlu, now=self.now, deps=self.deps, limits=self.limits,
                       channel=msg.channel, message_id=msg.message_id, identity=msg.identity,
                       contact=msg.contact, kind=self.kind, meta=msg.meta,
                       caller_id=msg.meta.get("caller_id") if not msg.contact else None)


def conversation_key(message: InboundMessage, linked: str | bytes | None) -> str:
    """Whose conversation: the phone a channel vouches for on every message (SMS, WhatsApp, a call,
    an integrator's `phone`), else the identity's linked phone's, else the identity's own. A shared
    contact is a turn of the chat's own conversation: it carries the cart over when it links."""
    if message.contact and message.kind != "contact":
        return f"phone:{message.contact}"
    if linked:
        return f"phone:{linked.decode() if isinstance(linked, bytes) else linked}"
    return f"id:{message.identity}"


def _personal(conv: sm.Conversation) -> tuple[str, ...]:
    """The customer's own words a reply may repeat (name, address): never sent to be translated."""
    return tuple(v for v in (conv.name, conv.address, conv.pending.get("name")) if isinstance(v, str) and v)


def parse_conversation(conv_key: str, raw: str | bytes | None) -> sm.Conversation | None:
    if not raw:
        return None
    try:
        return sm.Conversation.from_dict(json.loads(raw))
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("conversation %s unreadable (%s); starting a new one", conv_key.split(":")[0], exc)
        return None


class ConversationStep:
    """Built once per worker process; `turn` handles one mailbox entry (workers/lane.py does the I/O)."""

    def __init__(self, rt: Runtime) -> None:
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

    def deps(self, catalog: Catalog) -> sm.Deps:
        """One turn's collaborators (a customer looked up once per turn, drafts included)."""
        rt, found = self.rt, cast("dict[str, dict | None]", {})

        def find_customer(phone: str) -> dict | None:
            if phone not in found:
                doc = rt.store.customers.find_by_phone(phone)
                found[phone] = {"id": doc["_id"], "name": doc.get("name"), "address": doc.get("address"),
                                "reminders": (doc.get("outreach") or {}).get("reminders")} if doc else None
            entry = found[phone]
            return dict(entry) if entry else None

        return sm.Deps(
            catalog=catalog, find_customer=find_customer, recent_orders=rt.store.orders.recent,
            verification_lock=lambda phone: lock_seconds(rt.redis, phone),
            normalize_phone=lambda raw: phones.normalize(raw, rt.settings.DEFAULT_REGION),
            new_code=lambda: f"{secrets.randbelow(10 ** 6):06d}", new_salt=lambda: secrets.token_hex(8),
            saved_cart=lambda phone: (self.load(f"phone:{phone}") or sm.Conversation()).cart,
            slot_booked=rt.store.slots.booked, last_order=rt.store.orders.last_placed,
            placed=rt.store.orders.has_key,
        )

    def load(self, conv_key: str) -> sm.Conversation | None:
        return parse_conversation(conv_key, self.rt.redis.get(pkeys.conversation(conv_key).state))

    def turn(self, raw: str, msg: InboundMessage, conv: sm.Conversation | None, conv_key: str,
             rate_count: int) -> Processed:
        """One message against its conversation (`conv`: None if none was stored). Performs the
        effects; everything else it wants written (history, state, replies) comes back in Processed.
        `rate_count`: this conversation's messages this minute, including this one."""
        frame = self._open(msg, conv, rate_count)
        nlu = self._read(frame, msg, conv_key)
        turn = frame.turn(msg, nlu)
        replies, applied = self._advance(frame, turn)
        replies = self._say(frame, msg, nlu, replies, conv_key)
        if applied.erased:
            self.rt.nlu.forget(conv_key)  # "delete my data": the language remembered for them goes too
        return self._processed(raw, msg, frame, conv_key, nlu, replies, applied)

    def _open(self, msg: InboundMessage, stored: sm.Conversation | None, rate_count: int) -> Frame:
        """What holds for the whole turn before the message is read: the conversation (reset when
        idle), whether a new one starts, the message's kind (throttled?), the rules and catalog."""
        now, control = time.time(), msg.kind in sm.CONTROL_KINDS  # control: the shop's message, not the customer's
        conv = stored or sm.Conversation()
        state_before = conv.state
        pre_effects, idle = self._reset_if_idle(conv, msg, now, control)
        catalog = self.rt.catalog.current(fresh=msg.kind == sm.BACK_IN_STOCK)  # the restock was announced just now
        return Frame(
            conv=conv, now=now, clock=time.monotonic(), control=control, state_before=state_before,
            started=not control and (stored is None or (idle and state_before != "handoff")),
            pre_effects=pre_effects, kind=msg.kind if control else self._throttle(rate_count, msg),
            limits=dataclasses.replace(self.limits, shop=self.rt.shop.current()),  # the shop file, as edited now
            deps=self.deps(catalog))

    def _reset_if_idle(self, conv: sm.Conversation, msg: InboundMessage, now: float,
                       control: bool) -> tuple[list[sm.Effect], bool]:
        """An idle conversation starts over (keeping a recent cart), and so does a new phone call;
        the shop's own messages never reset it. Returns the reset's effects and whether it was idle."""
        idle = bool(conv.updated_at and now - conv.updated_at > self.idle_seconds)
        if idle and not control:
            return sm.idle_reset(conv, now, keep_cart=now - conv.updated_at <= self.cart_keep_seconds), idle
        if msg.meta.get("session_start") and conv.state != "greeting":
            sm.idle_reset(conv, now, keep_cart=True)  # a new phone call starts at greeting; the cart stays
        return [], idle

    def _read(self, frame: Frame, msg: InboundMessage, conv_key: str) -> NluResult:
        """What the line means; a throttled line is not read at all (no model call)."""
        if frame.kind in sm.THROTTLED:
            return NluResult(intent="unknown")
        return self._understand(msg, frame.conv, conv_key, frame.control,
                                draft=lambda reading: self._draft(frame.conv, frame.turn(msg, reading)))

    def _advance(self, frame: Frame, turn: sm.Turn) -> tuple[list[sm.Reply], Applied]:
        """The machine's move, its effects performed, and each effect's outcome fed back to it (an
        outcome may ask for more effects, whose outcomes are fed back in turn)."""
        outcome = sm.advance(frame.conv, turn)
        replies = list(outcome.replies)
        applied = self.effects.apply(frame.pre_effects + outcome.effects, turn, Applied())
        for effect, result in applied.results:  # grows while it is walked: follow-ups are resolved too
            follow = sm.resolve(frame.conv, turn, effect, result)
            replies += follow.replies
            self.effects.apply(follow.effects, turn, applied)
        return replies, applied

    def _say(self, frame: Frame, msg: InboundMessage, nlu: NluResult, replies: list[sm.Reply],
             conv_key: str) -> list[sm.Reply]:
        """The replies as the customer will read them: combined, remembered, in their language."""
        replies = sm.combine(replies)
        sm.remember(frame.conv, msg.text, replies)
        return self._in_language(replies, nlu, frame.conv, conv_key, frame.clock)

    def _processed(self, raw: str, msg: InboundMessage, frame: Frame, conv_key: str, nlu: NluResult,
                   replies: list[sm.Reply], applied: Applied) -> Processed:
        """Everything the lane writes for this turn: history, state, replies, counters, activity."""
        conv, now = frame.conv, frame.now
        rows, touch = ([], None) if applied.erased else record.history(msg, conv, nlu, replies, conv_key,
                                                                        frame.state_before, now)
        target = conv_key if frame.control else record.target_key(conv, msg)  # the shop's messages never move it
        completed = self._completed(conv, applied, frame.started)
        counters = record.counters(msg, replies, applied, frame.started, completed)
        log.info("processed channel=%s state=%s->%s replies=%d ms=%.1f", msg.channel, frame.state_before,
                 conv.state, len(replies), (time.time() - now) * 1000)
        return Processed(
            raw=raw, msg=msg, conv=conv, conv_key=conv_key, target_key=target,
            state_json="" if applied.erased else json.dumps(conv.to_dict(), separators=(",", ":")),
            routed=route(msg, [r.to_dict() for r in replies], conv.state, control=frame.control,
                         extra=applied.outbound),
            link_phone=applied.link_phone, counters=counters, rows=rows, touch=touch,
            activity=record.activity(msg, None if applied.erased else target, conv_key, frame.control,
                                     len(replies), counters, now),
            erased=applied.erased, link_ttl=CALL_LINK_TTL if ephemeral(msg.identity) else 365 * 86400,
            cart=self._cart(conv, msg, applied, frame.control, conv_key, target, now))

    @staticmethod
    def _completed(conv: sm.Conversation, applied: Applied, started: bool) -> bool:
        """This turn placed the conversation's first order (a conversation completes once)."""
        if started:
            conv.ordered = False  # a new conversation completes again with its first order
        completed = bool(applied.counters.get("orders_placed")) and not conv.ordered
        conv.ordered = conv.ordered or completed
        return completed

    def _cart(self, conv: sm.Conversation, msg: InboundMessage, applied: Applied, control: bool, conv_key: str,
              target: str, now: float) -> dict | None:
        """What a customer's turn leaves for the cart reminders (none for the shop's own messages, nor
        when the shop sends no cart reminders)."""
        if control or not self.rt.settings.CART_REMINDER_MINUTES:
            return None
        return {"key": conv_key} if applied.erased else outreach_carts.track(target, conv, msg.identity, now)

    def _throttle(self, count: int, msg: InboundMessage) -> str:
        """The message's kind, or 'throttled' (the first over RATE_LIMIT_PER_MINUTE: answered once)
        / 'throttled_quiet' (the rest of that minute: recorded, not acted on, no model call)."""
        over = count - self.rt.settings.RATE_LIMIT_PER_MINUTE
        if over <= 0:
            return msg.kind
        self.rt.redis.hincrby(redis_keys.STATS, f"rate_limited:{msg.channel}", 1)
        return "throttled" if over == 1 else "throttled_quiet"

    def _understand(self, msg: InboundMessage, conv: sm.Conversation, conv_key: str, control: bool,
                    draft: Callable[[NluResult], Any] | None = None) -> NluResult:
        """What the customer means. No model call for the shop's own control messages, nor while a
        person has the conversation (the bot then listens only for 'restart'). `draft(reading)`:
        the reply that reading would get (see _draft), for the model's call to translate early."""
        if control:
            return NluResult(intent="unknown")
        if conv.state == "handoff":
            return NluResult(intent="restart" if intents.command(intents.clean(msg.text)) == "restart" else "unknown")
        return self.rt.nlu.understand(msg.text, NluContext(
            state=conv.state, step=conv.step, history=[(h[0], h[1]) for h in conv.history], customer_key=conv_key,
            max_quantity=self.limits.max_quantity, keep=_personal(conv)), draft=draft)

    @staticmethod
    def _draft(conv: sm.Conversation, turn: sm.Turn) -> tuple[list[str], tuple[str, ...]]:
        """The replies `turn` would get, from a copy of the conversation (nothing is done or saved), and
        the customer's name and address as that turn would know them (to hold them out)."""
        copy = sm.Conversation.from_dict(deepcopy(conv.to_dict()))
        return [r.text for r in sm.advance(copy, turn).replies], _personal(copy)

    def _in_language(self, replies: list[sm.Reply], nlu: NluResult, conv: sm.Conversation, conv_key: str,
                     started: float) -> list[sm.Reply]:
        """The machine speaks English; a customer who wrote in another language reads the reply in
        theirs when the model can translate it within the turn's time (else English, counted)."""
        translate = getattr(self.rt.nlu, "translate", None)
        if not replies or nlu.language == "en" or translate is None:
            return replies
        texts = translate([r.text for r in replies], nlu.language, conv_key, started, known=nlu.translated,
                          keep=_personal(conv))
        if texts is None:
            return replies
        return [dataclasses.replace(r, text=t) for r, t in zip(replies, texts, strict=True)]
