"""Conversation scenarios as data: tests/conversations/*.yaml, run through the real pipeline.

A scenario names its customers (each gets a fresh phone and user id), then lists steps:

    - as: ana                 # who speaks (default: the first customer)
      say: "2 kg of apples"   # placeholders: {phone}, {phone:bob}, {code} (last code texted to the
                              #   number being verified), {code:wrong}
      expect:
        state: order
        reply: ["Added 2 kg"]         # substrings that must appear in the reply
        reply_not: ["Bob"]            # substrings that must not
        cart: {APPLE: 2}              # the conversation's cart afterwards
        order: {status: confirmed, lines: {APPLE: 2}, channel: api}   # the newest order; total = catalog
        orders: 1                     # how many orders the customer has
        orders_anonymised: true       # the orders checked earlier are kept without personal data
        customer: present | absent | {name: ...}
        history: 0                    # stored message rows for the customer's phone
    - age: 1900                # make the speaker's conversation idle for this many seconds
    - as: bob
      setup: registered        # shortcut: bob registers (hi, name, address) without assertions
    - operator: {reply: "Hi, Sam here"}   # the shop's side, through the operator API: reply to the
    - operator: handback                  #   speaker waiting for a person, or hand them back;
      expect: {notices: ["Sam here"]}     #   what reaches an /api/chat user is in their notices
  `silent: true` expects no reply at all (a person has the conversation).

A scenario with `gemini: on` (or `down`) runs on the stack whose workers ask the fake Gemini
(tests/support/fake_gemini.py; `down` = connections refused). Its steps may say what the model
answers to the line (`gemini: {intent: add_items, items: [...], language: es}`), and expect
operator counters in `ol:stats` (`stats: {"nlu_fallback:invalid": 1}`: at least these values).

Channels: a customer talks on `channel:` (api by default; telegram, whatsapp, sms, voice), and a
step may say `channel:` to switch (the same person, the same phone). Telegram steps may
`share_contact: own | other` or `send: sticker | photo | voice` (with `caption:` for words under it);
voice steps may `call: start`,
`press: "1"` (keys), `silence: true` or `hangup: true`. Extra checks for what the channel showed:
`buttons: [...]` (Telegram's keyboard) and `asks_contact: true` (its share-my-number button).

The shop's rules: `shop: sample` runs the scenario under bot/data/shop.yaml, and a mapping runs
it under the sample with those keys replaced (`shop: {hours: always, payment: {methods: [...]}}`;
`hours: closed_now` = open only on the day after tomorrow, 9 to 5); without `shop:` the stack's
plain rules apply. Steps for the rules:

    - fill_slot: {offered: 1, leave: 0}   # the speaker's offered slot #1 booked by others to capacity
    - stock: {MILK-WHOLE: 0}              # the shop's stock or price changes (workers see it in 2 s)
    - price: {MILK-WHOLE: 139}
    - stripe: pay | expire                # the customer pays at Stripe (its signed webhook follows)
                                          #   or the link runs out (the expiry sweep)
    - race: [{as: ana, say: "yes"}, {as: bob, say: "yes"}]   # at once; each reply matches one of
      expect_each: [{reply: [...]}, {reply: [...]}]            #   these, in some order
  and checks `notices: [...]` (what reached an /api/chat user outside a reply), `buttons_count`,
  and in `order:` also `fee`, `total` (cents), `slot: true`, `payment: <status>`.

Messages the shop sends first (tests/support/outreach_steps.py): `shop_does:` (a restock, an order
moved on, through the operator API), `sweep: carts | outreach`, `window: {closed_hours: 25}`, and
the checks `sent:`, `sent_count:`, `template:`, `nothing_sent:` on what the speaker's channel
delivered; a scenario's `settings:` (QUIET_HOURS: now) apply to this process meanwhile.

`run(driver, scenario)` works with any driver that can chat, read the store and the codes.
"""
from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from bot.pipeline import keys as pkeys
from tests.support import outreach_steps

SAMPLE_SHOP = Path(__file__).resolve().parent.parent.parent / "bot" / "data" / "shop.yaml"

HERE = Path(__file__).resolve().parent.parent / "conversations"
_numbers = itertools.count(random.randrange(1000, 9000, 100))  # 0100-0999 are hard-coded in tests


def load_all() -> list[dict]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        doc["_file"] = path.name
        out.append(doc)
    return out


def fresh_phone() -> str:
    return f"+1415555{next(_numbers) % 10000:04d}"


class Customer:
    def __init__(self, name: str, spec: dict, unique):
        self.name = name
        self.user = unique(name)
        self.phone = fresh_phone()
        self.vouched = spec.get("vouched", True)  # does the channel vouch for the phone?
        self.display = spec.get("name", name.title())
        self.verifying: str | None = None  # a phone this customer typed and must prove
        self.order_ids: set[str] = set()  # orders seen by `order` checks (for `orders_anonymised`)
        self.channel = spec.get("channel", "api")
        self.identities: set[str] = {f"api:{self.user}"}  # every "<channel>:<address>" they wrote from
        self.chat_id: int | None = None  # Telegram
        self.call_sid: str | None = None  # the phone call going on, and its next turn's URL
        self.call_next: str | None = None


def run(live, scenario: dict) -> None:
    if "shop" not in scenario:
        return _run(live, scenario)
    live.use_shop(shop_rules(scenario["shop"]))
    live.rt.store.products.update("APPLE", stock=1000)  # rules scenarios order 10 kg each on a shared stack
    try:
        _run(live, scenario)
    finally:
        live.use_shop(None)


def shop_rules(spec) -> dict:
    """The sample shop file with the scenario's keys in place of its own."""
    doc = yaml.safe_load(SAMPLE_SHOP.read_text())
    for key, value in ({} if spec == "sample" else spec).items():
        doc[key] = _closed_now(doc) if value == "closed_now" else value
    return doc


def _closed_now(doc: dict) -> dict:
    """Hours that are closed now, whatever the time: open only the day after tomorrow, 9 to 5."""
    from zoneinfo import ZoneInfo

    day = (datetime.now(ZoneInfo(doc["timezone"])) + timedelta(days=2)).strftime("%a").lower()
    return {day: "09:00-17:00"}


def _run(live, scenario: dict) -> None:
    saved = outreach_steps.settings_for(live, scenario.get("settings"))
    try:
        _steps(live, scenario)
    finally:
        outreach_steps.restore(live, saved)


def _steps(live, scenario: dict) -> None:
    customers = {name: Customer(name, spec or {}, live.unique)
                 for name, spec in (scenario.get("customers") or {"ana": {}}).items()}
    first = next(iter(customers))
    for n, step in enumerate(scenario["steps"], 1):
        who = customers[step.get("as", first)]
        channel = step.get("channel", who.channel)
        what = next((step[k] for k in ("say", "setup", "age", "press", "share_contact", "send", "call", "shop_does",
                                       "sweep", "window") if k in step),
                    "hangup" if step.get("hangup") else "silence")
        where = f"{scenario['_file']} step {n} ({channel}: {what!r})"
        if "setup" in step:
            _setup(live, who, step["setup"])
            continue
        if "age" in step:
            _age(live, who, step["age"])
            continue
        if "operator" in step:
            _operator(live, who, step["operator"], step.get("expect") or {}, where)
            continue
        if _shop_step(live, who, customers, step, where):
            continue
        if outreach_steps.handles(step):
            outreach_steps.play(live, who, step, channel, where)
            continue
        text = _fill(live, step["say"], who, customers) if "say" in step else ""
        if "gemini" in step:
            live.gemini.script(text, step["gemini"])
        if channel == "api":
            reply = live.chat(who.user, text, who.phone if who.vouched else None)
        else:
            from tests.support import channel_driver

            reply = channel_driver.turn(live, who, channel, step, lambda t, who=who: _fill(live, t, who, customers))
        phone_typed = re.fullmatch(r"\+\d{8,15}", text.replace(" ", ""))
        if phone_typed:
            who.verifying = phone_typed.group(0)
        _check(live, who, reply, step.get("expect") or {}, where)


def _shop_step(live, who: Customer, customers: dict, step: dict, where: str) -> bool:
    """The shop's side of a rules scenario; True if `step` was one."""
    store = live.rt.store
    if "fill_slot" in step:
        offered = (_conversation(live, who) or {}).get("pending", {}).get("offered", [])
        spec = step["fill_slot"]
        slot = offered[spec.get("offered", 1) - 1]
        capacity = live.rt.shop.current().slots.capacity
        store.slots._ensure(slot)
        store.slots.col.update_one({"_id": slot["id"]}, {"$set": {"booked": capacity - spec.get("leave", 0)}})
    elif "stock" in step or "price" in step:
        for sku, value in (step.get("stock") or {}).items():
            store.products.update(sku, stock=value)
        for sku, value in (step.get("price") or {}).items():
            store.products.update(sku, price_cents=value)
        live.rt.catalog.bump()
        time.sleep(2.2)  # every worker's catalog snapshot is at most 2 s old
    elif "stripe" in step:
        _stripe(live, who, step["stripe"], where)
    elif "race" in step:
        _race(live, customers, step, where)
    else:
        return False
    if step.get("expect") and "race" not in step:
        _check(live, who, {"replies": [], "state": (_conversation(live, who) or {}).get("state")}, step["expect"],
               where)
    return True


def _stripe(live, who: Customer, action: str, where: str) -> None:
    from bot.payments import expiry

    [order] = live.rt.store.orders.find({"phone": who.phone, "status": "awaiting_payment"}, limit=1)
    session = order["payment"]["session_id"]
    if action == "pay":
        live.stripe.pay(session)
        payload, headers = live.stripe.signed_event(session)
        res = live.client.post("/webhooks/stripe", data=payload, headers=headers)
        assert res.status_code == 200, f"{where}: webhook answered {res.status_code}: {res.get_json()}"
    elif action == "expire":
        assert expiry.sweep(live.rt, now=order["payment"]["expires_at"] + 120) == 1, f"{where}: nothing expired"
    else:
        raise ValueError(f"{where}: stripe: {action!r}")


def _race(live, customers: dict, step: dict, where: str) -> None:
    """Several customers' lines at the same moment (each on /api/chat, from its own thread)."""
    lines = step["race"]
    replies: list = [None] * len(lines)
    gate = threading.Barrier(len(lines))

    def go(i, line):
        who = customers[line["as"]]
        gate.wait()
        replies[i] = live.chat(who.user, line["say"], who.phone if who.vouched else None)

    threads = [threading.Thread(target=go, args=(i, line)) for i, line in enumerate(lines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    said = ["\n".join(r["replies"]) for r in replies]
    wanted = step["expect_each"]
    for order in itertools.permutations(range(len(said))):
        if all(all(part in said[i] for part in want.get("reply", [])) for i, want in zip(order, wanted, strict=False)):
            return
    raise AssertionError(f"{where}: the replies {said} do not match {wanted} in any order")


def _fill(live, text: str, who: Customer, customers: dict) -> str:
    def sub(m):
        key, _, arg = m.group(1).partition(":")
        if key == "phone":
            return customers[arg].phone if arg else who.phone
        if key == "code":
            real = live.last_code(who.verifying)
            return real if not arg else f"{(int(real) + 1) % 10 ** 6:06d}"  # {code:wrong}
        raise KeyError(m.group(0))
    return re.sub(r"\{(\w+(?::\w+)?)\}", sub, str(text))


def _setup(live, who: Customer, what: str) -> None:
    assert what == "registered", what
    for line in ("hi", who.display, "1 Test Street, Springfield"):
        live.chat(who.user, line, who.phone)


def _conversation_keys(who: Customer) -> list[str]:
    return [pkeys.conversation(f"phone:{who.phone}").state] + [pkeys.conversation(f"id:{i}").state for i in sorted(who.identities)]


def _age(live, who: Customer, seconds: float) -> None:
    for key in _conversation_keys(who):
        raw = live.rt.redis.get(key)
        if raw:
            doc = json.loads(raw)
            doc["updated_at"] -= seconds
            live.rt.redis.set(key, json.dumps(doc), keepttl=True)


def _conversation(live, who: Customer) -> dict | None:
    for key in _conversation_keys(who):
        raw = live.rt.redis.get(key)
        if raw:
            return json.loads(raw)
    return None


def _check(live, who: Customer, reply: dict, expect: dict, where: str) -> None:
    said = "\n".join(reply.get("replies", []))
    if expect.get("silent"):
        assert reply.get("replies") == [], f"{where}: expected no reply, got:\n{said}"
    if "state" in expect:
        assert reply["state"] == expect["state"], f"{where}: state {reply['state']!r}\n{said}"
    for part in expect.get("reply", []):
        assert part in said, f"{where}: {part!r} not in reply:\n{said}"
    for part in expect.get("reply_not", []):
        assert _fill_static(part, who) not in said, f"{where}: {part!r} must not be in reply:\n{said}"
    if "stats" in expect:
        stats = live.stats()
        low = {k: stats.get(k, 0) for k, v in expect["stats"].items() if stats.get(k, 0) < v}
        assert not low, f"{where}: counters below expected {low}; all: {stats}"
    if "buttons" in expect:
        assert reply.get("buttons") == expect["buttons"], f"{where}: buttons {reply.get('buttons')}"
    if "buttons_count" in expect:
        assert len(reply.get("buttons") or []) == expect["buttons_count"], f"{where}: buttons {reply.get('buttons')}"
    if "notices" in expect:
        _check_notices(live, who, expect["notices"], where)
    if "asks_contact" in expect:
        assert reply.get("asks_contact") == expect["asks_contact"], f"{where}: share-contact button"
    store = live.rt.store
    if "cart" in expect:
        conv = _conversation(live, who) or {"cart": []}
        cart = {line["sku"]: line["quantity"] for line in conv["cart"]}
        assert cart == (expect["cart"] or {}), f"{where}: cart {cart}"
    if "orders" in expect:
        assert store.orders.count({"phone": who.phone, "status": {"$ne": "failed"}}) == expect["orders"], where
    if "order" in expect:
        _check_order(store, who, expect["order"], where)
    if "customer" in expect:
        doc = store.customers.find_by_phone(who.phone)
        want = expect["customer"]
        if want == "absent":
            assert doc is None, f"{where}: customer still stored"
        elif want == "present":
            assert doc is not None, f"{where}: customer missing"
        else:
            assert doc and all(doc.get(k) == v for k, v in want.items()), f"{where}: customer {doc}"
    if "history" in expect:
        count = store.messages.count({"$or": [{"phone": who.phone}, {"identity": {"$in": sorted(who.identities)}}]})
        assert count == expect["history"], f"{where}: {count} history rows"
    if expect.get("orders_anonymised"):
        assert who.order_ids, f"{where}: no order was checked earlier"
        for order_id in who.order_ids:
            order = store.orders.get(order_id)
            assert order and order["anonymised"] and order["phone"] is None and order["customer_name"] is None \
                and order["address"] is None, f"{where}: order {order}"


def _operator(live, who: Customer, action, expect: dict, where: str) -> None:
    """An operator acts on the speaker's waiting conversation; wait until it reached their notices."""
    from bot.customers.handoff import handoff_id
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN

    key = handoff_id(f"phone:{who.phone}" if who.vouched else f"id:api:{who.user}")  # the opaque id operators use
    op = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    if isinstance(action, dict):
        res = live.client.post(f"/api/handoffs/{key}/reply", json={"text": action["reply"]}, headers=op)
    else:
        res = live.client.post(f"/api/handoffs/{key}/{action}", headers=op)
    assert res.status_code == 202, f"{where}: operator {action!r} answered {res.status_code}: {res.get_json()}"
    api = {"Authorization": f"Bearer {API_TOKEN}"}
    deadline, got = time.monotonic() + 20, []
    while not got and time.monotonic() < deadline:
        got = live.client.get(f"/api/notices?user_id={who.user}", headers=api).get_json()["notices"]
        if not got:
            time.sleep(0.05)
    said = "\n".join(n["text"] for n in got)
    assert got, f"{where}: nothing reached the customer"
    for part in expect.get("notices", []):
        assert part in said, f"{where}: {part!r} not in notices:\n{said}"


def _check_notices(live, who: Customer, wanted: list[str], where: str) -> None:
    from tests.conftest import API_TOKEN

    api = {"Authorization": f"Bearer {API_TOKEN}"}
    deadline, said = time.monotonic() + 20, ""
    while time.monotonic() < deadline:
        got = live.client.get(f"/api/notices?user_id={who.user}&peek=1", headers=api).get_json()["notices"]
        said = "\n".join(n["text"] for n in got)
        if all(part in said for part in wanted):
            return
        time.sleep(0.05)
    raise AssertionError(f"{where}: {wanted} not in notices:\n{said}")


def _fill_static(text: str, who: Customer) -> str:
    return text.replace("{phone}", who.phone)


def _check_order(store, who: Customer, want: dict, where: str) -> None:
    orders = store.orders.find({"phone": who.phone, "status": {"$ne": "failed"}}, limit=1)
    assert orders, f"{where}: no order for the customer"
    order = orders[0]
    who.order_ids.add(order["_id"])
    if "status" in want:
        assert order["status"] == want["status"], f"{where}: status {order['status']}"
    if "channel" in want:
        assert order["channel"] == want["channel"], f"{where}: placed on {order['channel']}"
    if "lines" in want:
        got = {line["sku"]: line["quantity"] for line in order["lines"]}
        assert got == want["lines"], f"{where}: lines {got}"
    if "rating" in want:
        assert (order.get("feedback") or {}).get("rating") == want["rating"], f"{where}: feedback {order.get('feedback')}"
    fee = order.get("delivery_fee_cents", 0)
    for key, value in (("fee", fee), ("total", order["total_cents"]), ("slot", bool(order.get("slot"))),
                       ("payment", (order.get("payment") or {}).get("status"))):
        if key in want:
            assert value == want[key], f"{where}: order {key} is {value!r}, not {want[key]!r}"
    items = sum(line["total_cents"] for line in order["lines"])  # each line priced from the catalog at placement
    assert order["total_cents"] == items + fee, f"{where}: total {order['total_cents']} != {items} + {fee}"
    prices = store.products.by_skus(line["sku"] for line in order["lines"])
    expected = sum(round(line["quantity"] * prices[line["sku"]].price_cents) for line in order["lines"])
    assert items == expected, f"{where}: items {items} != catalog {expected}"
