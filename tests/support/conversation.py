"""Drive the pure state machine the way the worker does, with in-memory stand-ins for the world.

Used by the tier-1 tests: no Redis, no Mongo, no queue; the offline parser reads the text, and
effects are performed against dictionaries so their outcomes flow back through `resolve`.
"""
from __future__ import annotations

import itertools
import json

import statemachine as sm
from bot.nlu.faq_source import FaqSource
from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext, NluResult
from bot.shop.catalog import Catalog, Product
from bot.shop.catalog_import import load_sample_catalog

SEEN_REPLIES: list[str] = []  # every reply any harness produced, for the reachability test


class World:
    """Customers, orders, stock and locks, as plain dicts."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.stock = {p.sku: p.stock for p in catalog}
        self.customers: dict[str, dict] = {}
        self.orders: list[dict] = []
        self.locks: dict[str, float] = {}
        self.codes: dict[str, str] = {}
        self.code_refusals: dict[str, str] = {}  # phone -> the code policy's reason to refuse it
        self.code_sends: dict[str, int] = {}  # codes sent per phone (the policy allows 3, as OTP_MAX_SENDS_PER_IDENTITY)
        self.provider_down = False  # a code provider (Twilio Verify) that can't be reached
        self.links: dict[str, str] = {}
        self.erased: list[str] = []
        self.waiting: list[str] = []  # conversations waiting for a person, oldest first
        self.placed_keys: dict[str, dict] = {}
        self.taken_by_others: dict[str, float] = {}  # sold between the catalog snapshot and placement
        self.slots: dict[str, int] = {}  # slot id -> deliveries booked
        self.payment_links: list[str] = []  # orders a payment link was asked for
        self.link_fails = False  # the payment service is down
        self.prices: dict[str, int] = {}  # today's price, where it changed since the catalog was loaded
        self.slots_taken_meanwhile: dict[str, int] = {}  # booked by others between the snapshot and placement
        self.refuse_next: dict | None = None  # the store's next placement answer, whatever the cart
        self.waiting_for: dict[str, list[tuple[str, str]]] = {}  # sku -> [(phone, identity)] to tell when back
        self.feedback: dict[str, tuple[int, str]] = {}  # order id -> (rating, comment)
        self.later: list = []  # control messages the conversation asked to have sent again later
        self._ids = itertools.count(1)
        self._codes = itertools.cycle(["123456", "654321", "111222"])

    def current_catalog(self) -> Catalog:
        return Catalog([_with_stock(p, self.stock[p.sku], self.prices.get(p.sku)) for p in self.catalog
                        if p.sku not in self.gone])

    @property
    def gone(self) -> set[str]:
        return {sku for sku, price in self.prices.items() if price is None}  # no longer sold

    def deps(self, now: float) -> sm.Deps:
        return sm.Deps(
            catalog=self.current_catalog(),
            find_customer=lambda phone: ({"id": self.customers[phone]["id"], "reminders": None,
                                          **self.customers[phone]} if phone in self.customers else None),
            recent_orders=lambda phone: [
                {"id": o["id"], "number": o["number"], "status": o["status"], "total_cents": o["total_cents"],
                 "created_at": o["created_at"]} for o in reversed(self.orders) if o["phone"] == phone],
            verification_lock=lambda phone: max(0, int(self.locks.get(phone, 0) - now)),
            normalize_phone=lambda raw: raw if raw.startswith("+") and raw[1:].isdigit() and len(raw) >= 9 else None,
            new_code=lambda: next(self._codes),
            new_salt=lambda: "salt",
            slot_booked=lambda ids: {i: self.slots[i] for i in ids if i in self.slots},
            last_order=self.last_order,
        )

    def last_order(self, phone: str) -> dict | None:
        mine = [o for o in self.orders if o["phone"] == phone]
        if not mine:
            return None
        last = mine[-1]
        return {"number": last["number"], "lines": [{"sku": s, "quantity": q, "price_cents": last["prices"][s],
                                                     "name": s} for s, q in last["lines"]]}

    def perform(self, effect, now: float) -> dict | None:
        kind = effect.kind
        if kind == "SendCode":
            return self._send_code(effect)
        elif kind == "CheckCode":
            if self.provider_down:
                return {"result": "unavailable"}
            return {"result": "approved" if self.codes.get(effect.phone) == effect.code else "wrong"}
        elif kind == "LockVerification":
            self.locks[effect.phone] = now + effect.seconds
        elif kind == "LinkIdentity":
            self.links[effect.identity] = effect.phone
        elif kind == "SaveCustomer":
            c = self.customers.setdefault(effect.phone, {"id": f"c{next(self._ids)}"})
            c.update(name=effect.name, address=effect.address)
            return {"id": c["id"], "name": c["name"], "address": c["address"]}
        elif kind == "UpdateCustomer":
            c = self.customers[effect.phone]
            c[effect.field] = effect.value
            c.setdefault("changes", []).append({"field": effect.field, "key": effect.key, "at": now})
        elif kind == "PlaceOrder":
            return self._place(effect, now)
        elif kind == "SaveAddress":
            self.customers[effect.phone]["address"] = effect.address
        elif kind == "CreatePaymentLink":
            order = next(o for o in self.orders if o["id"] == effect.order_id)
            if self.link_fails:
                order["status"], order["payment"] = "confirmed", "on_delivery"
                return {"ok": False, "fallback": True, "number": order["number"], "total_cents": order["total_cents"]}
            self.payment_links.append(effect.order_id)
            return {"ok": True, "url": f"https://checkout.stripe.test/{effect.order_id}", "expires_at": now + 1800,
                    "number": order["number"], "total_cents": order["total_cents"]}
        elif kind == "CancelOrder":
            for o in self.orders:
                if o["id"] == effect.order_id and o["phone"] == effect.phone and \
                        o["status"] in ("confirmed", "preparing", "awaiting_payment"):
                    o["status"] = "cancelled"
                    for sku, q in o["lines"]:
                        self.stock[sku] += q
                    if o.get("slot"):
                        self.slots[o["slot"]["id"]] -= 1
                    return {"ok": True}
            return {"ok": False}
        elif kind == "RequestHandoff":
            key = effect.phone or effect.identity
            if key not in self.waiting:
                self.waiting.append(key)
        elif kind == "EndHandoff":
            key = effect.phone or effect.identity
            if key in self.waiting:
                self.waiting.remove(key)
        elif kind in ("WaitForRestock", "SetReminders", "RecordFeedback", "Later"):
            self._outreach(effect)
        elif kind == "EraseCustomer":
            self.customers.pop(effect.phone, None)
            self.erased.append(effect.phone)
        return None

    def _send_code(self, e) -> dict:
        """As bot/customers/codes.py would: refused numbers, at most 3 codes, a provider that may be down."""
        reason = self.code_refusals.get(e.phone) or ("unavailable" if self.provider_down else None)
        if reason is None and self.code_sends.get(e.phone, 0) >= 3:
            reason = "identity_cap"
        if reason:
            return {"sent": False, "reason": reason}
        self.code_sends[e.phone] = self.code_sends.get(e.phone, 0) + 1
        self.codes[e.phone] = e.code
        return {"sent": True, "reason": None}

    def _outreach(self, effect) -> None:
        """The effects of messages the shop sends first, and of the customer's answers to them."""
        if effect.kind == "WaitForRestock":
            waiting = self.waiting_for.setdefault(effect.sku, [])
            waiting[:] = [w for w in waiting if w[0] != effect.phone] + [(effect.phone, effect.identity)]
        elif effect.kind == "SetReminders":
            self.customers[effect.phone]["reminders"] = effect.on
        elif effect.kind == "RecordFeedback":
            self.feedback.setdefault(effect.order_id, (effect.rating, effect.comment))
        else:
            self.later.append(effect)

    def _place(self, e, now) -> dict:
        if e.key in self.placed_keys:
            return self.placed_keys[e.key]
        if self.refuse_next:
            refused, self.refuse_next = self.refuse_next, None
            return refused
        for sku, q in self.taken_by_others.items():
            self.stock[sku] -= q
        for slot_id, n in self.slots_taken_meanwhile.items():
            self.slots[slot_id] = self.slots.get(slot_id, 0) + n
        self.taken_by_others, self.slots_taken_meanwhile = {}, {}
        short = [{"sku": s, "available": self.stock[s]} for s, q in e.lines if self.stock[s] < q]
        if short:
            return {"ok": False, "short": short, "reason": "stock"}
        if e.slot and self.slots.get(e.slot["id"], 0) >= e.slot_capacity:
            return {"ok": False, "short": [], "reason": "slot_full"}
        for s, q in e.lines:
            self.stock[s] -= q
        if e.slot:
            self.slots[e.slot["id"]] = self.slots.get(e.slot["id"], 0) + 1
        prices = {s: self.current_catalog().get(s).price_cents for s, _ in e.lines}
        items = sum(sm.money.line_total_cents(q, prices[s]) for s, q in e.lines)
        fee = sm.rules.fee_for(items, e.delivery_fee_cents, e.free_delivery_over_cents)
        status = "awaiting_payment" if e.payment == "online" else "confirmed"
        order = {"id": f"o{len(self.orders) + 1}", "number": str(1001 + len(self.orders)), "status": status,
                 "phone": e.phone, "lines": list(e.lines), "total_cents": items + fee, "created_at": now,
                 "prices": prices, "slot": e.slot, "payment": e.payment, "delivery_fee_cents": fee}
        self.orders.append(order)
        result = {"ok": True, "id": order["id"], "number": order["number"], "total_cents": items + fee,
                  "delivery_fee_cents": fee, "awaiting_payment": status == "awaiting_payment"}
        self.placed_keys[e.key] = result
        return result


def _with_stock(p: Product, stock, price: int | None = None) -> Product:
    d = p.to_doc()
    d["stock"] = stock
    if price is not None:
        d["price_cents"] = price
    return Product.from_doc(d)


class _Rules:
    """A chat's shop rules, handed out as bot.shop.rules_source.ShopSource does."""

    def __init__(self, rules):
        self.rules = rules

    def current(self):
        return self.rules


class Chat:
    """One customer talking to the pure machine. `say` returns the joined reply text."""

    def __init__(self, world: World, *, identity: str = "api:u1", contact: str | None = None,
                 channel: str = "api", limits: sm.Limits | None = None, now: float = 1_800_000_000.0,
                 caller_id: str | None = None):
        self.world, self.identity, self.contact, self.channel = world, identity, contact, channel
        self.caller_id = caller_id  # a call's caller ID that vouches for nothing
        self.limits = limits or sm.Limits()
        self.conv = sm.Conversation()
        self.now = now
        # the FAQ a worker answers from: faq.json, with the entries this shop's rules make
        self.parser = OfflineParser(world.catalog, self.limits.max_quantity,
                                    faq_source=FaqSource(shop=_Rules(self.limits.shop)))
        self.replies: list[sm.Reply] = []
        self.effects: list = []
        self._n = 0

    @property
    def state(self) -> str:
        return self.conv.state

    def understand(self, text: str) -> NluResult:
        return self.parser.understand(text, NluContext(state=self.conv.state, step=self.conv.step,
                                                       max_quantity=self.limits.max_quantity))

    def say(self, text: str, *, nlu: NluResult | None = None, kind: str = "text", contact: str | None = None,
            advance_seconds: float = 5, meta: dict | None = None) -> str:
        self.now += advance_seconds
        self._n += 1
        # the conversation is stored and loaded between turns, exactly as the worker does
        self.conv = sm.Conversation.from_dict(json.loads(json.dumps(self.conv.to_dict())))
        nlu = nlu or (NluResult() if kind in sm.CONTROL_KINDS else self.understand(text))
        turn = sm.Turn(text=text, nlu=nlu, now=self.now, deps=self.world.deps(self.now),
                       limits=self.limits, channel=self.channel, message_id=f"m{self._n}",
                       identity=self.identity, contact=contact or self.contact, kind=kind, meta=meta or {},
                       caller_id=self.caller_id)
        outcome = sm.advance(self.conv, turn)
        replies, effects = list(outcome.replies), list(outcome.effects)
        pending = list(outcome.effects)
        while pending:  # as the worker does: an outcome's follow-up effects are performed (and resolved) too
            effect = pending.pop(0)
            result = self.world.perform(effect, self.now)
            if effect.wants_result:
                follow = sm.resolve(self.conv, turn, effect, result)
                replies += follow.replies
                effects += follow.effects
                pending += follow.effects
        sm.remember(self.conv, text, replies)
        self.replies, self.effects = replies, effects
        text_out = "\n".join(r.text for r in replies)
        SEEN_REPLIES.append(text_out)
        return text_out

    def effect_kinds(self) -> list[str]:
        return [e.kind for e in self.effects]


def sample_world() -> World:
    return World(Catalog(load_sample_catalog()))
