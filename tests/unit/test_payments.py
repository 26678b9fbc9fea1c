"""Paying online: the real `stripe` SDK against a local fake of Stripe's API (tests/support/
fake_stripe.py), and webhooks signed as Stripe signs them, through the whole pipeline in-process.

What a customer or the shop would notice: the link is for the order's total; the order is paid
only by a verified webhook, once; a forged, tampered, stale or replayed webhook changes nothing;
an unpaid order expires and gives its stock and slot back; a slow or dead Stripe never loses an
order (the customer pays on delivery instead, or the message is retried).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.common.errors import TransientError
from bot.config import load_settings
from bot.payments import expiry, links
from bot.payments.gateway import PaymentUnavailable
from bot.runtime import build
from statemachine.prompts import ORDER_UPDATES
from tests.conftest import API_TOKEN, OPERATOR_TOKEN, SAMPLE_SHOP
from tests.support.fake_stripe import TEST_KEY, TEST_WEBHOOK_SECRET, FakeStripe
from tests.support.operators import OP
from tests.support.pipeline import Pipeline

SK, WHSEC = TEST_KEY, TEST_WEBHOOK_SECRET
PHONE = "+14155550301"
BIG = "10 kg of apples"  # $43.90: over the minimum, under free delivery


@pytest.fixture(scope="module")
def stripe_api():
    fake = FakeStripe(SK, WHSEC).start()
    yield fake
    fake.stop()


def shop_file(tmp_path, **changes) -> str:
    doc = yaml.safe_load(Path(SAMPLE_SHOP).read_text())
    doc.update(hours="always", payment={"methods": ["on_delivery", "online"]}, **changes)
    doc["slots"]["hours"] = "always"
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.fixture
def prt(stripe_api, tmp_path, fake_redis, store, senders):
    stripe_api.reset()
    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, SHOP_FILE=shop_file(tmp_path),
                             STRIPE_SECRET_KEY=SK, STRIPE_WEBHOOK_SECRET=WHSEC, STRIPE_API_URL=stripe_api.url,
                             STRIPE_TIMEOUT_SECONDS=0.5)
    return build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)


@pytest.fixture
def web(prt):
    from bot.app import create_app

    return create_app(prt).test_client()


@pytest.fixture
def shop(prt):
    return Pipeline(prt)


def to_payment(shop, user="payer", phone=PHONE) -> None:
    for line in ("hi", "Pat Payer", "12 Main Street, Springfield", "1", BIG, "done", "1"):
        shop.say(line, user=user, phone=phone)


def pay_online(shop, user="payer", phone=PHONE) -> tuple[dict, str]:
    """Checkout choosing online payment; returns the order and what the customer was told."""
    to_payment(shop, user, phone)
    assert "Payment: online now" in shop.texts("2", user=user, phone=phone)
    said = shop.texts("yes", user=user, phone=phone)
    [order] = shop.rt.store.orders.search(phone=phone)
    return order, said


def notices(web, user="payer") -> list[str]:
    res = web.get(f"/api/notices?user_id={user}&peek=1", headers={"Authorization": f"Bearer {API_TOKEN}"})
    return [n["text"] for n in res.get_json()["notices"]]


def post(web, payload: bytes, headers: dict):
    return web.post("/webhooks/stripe", data=payload, headers=headers)


def held(rt, order) -> tuple[float, int]:
    """(apples on the shelf, deliveries booked in the order's slot)."""
    slot = rt.store.slots.booked([order["slot"]["id"]]).get(order["slot"]["id"], 0)
    return rt.store.products.stock("APPLE"), slot


# -- the link ---------------------------------------------------------------------------------------

def test_a_payment_still_processing_at_expiry_keeps_the_order_waiting(shop, prt, stripe_api):
    order, _ = pay_online(shop)
    stripe_api.sessions[order["payment"]["session_id"]].update(status="complete", payment_status="unpaid")
    assert expiry.sweep(prt, now=order["payment"]["expires_at"] + 120) == 0
    assert prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"


def test_the_link_is_for_the_stored_orders_total_and_the_order_waits_holding_stock_and_slot(shop, prt, stripe_api):
    before = prt.store.products.stock("APPLE")
    order, said = pay_online(shop)
    assert order["status"] == "awaiting_payment" and order["total_cents"] == 4390 + 499
    session_id = order["payment"]["session_id"]
    assert f"Pay securely here: https://checkout.stripe.com/c/pay/{session_id}" in said
    assert f"Order #{order['number']} is reserved for you. Total: $48.89." in said
    [create] = stripe_api.created()
    assert create.form["line_items[0][price_data][unit_amount]"] == "4889"
    assert create.form["line_items[0][price_data][currency]"] == "usd"
    assert create.form["metadata[order_id]"] == order["_id"] and create.headers["idempotency-key"]
    assert held(prt, order) == (before - 10, 1)


def test_a_retried_job_gets_the_same_link_and_stripe_one_session(shop, prt, stripe_api, monkeypatch):
    order, _ = pay_online(shop)
    prt.store.payments.col.update_one({"_id": order["_id"]}, {"$unset": {"payment.url": ""}})  # died before saving it
    later = time.time() + 7  # retried seconds later: the same parameters still go with the same idempotency key
    monkeypatch.setattr(links.time, "time", lambda: later)
    again = links.create(prt, order["_id"])
    assert again["url"] == order["payment"]["url"] and len(stripe_api.sessions) == 1
    assert len(stripe_api.created()) == 2  # asked twice, answered from the idempotency key


# -- the webhook --------------------------------------------------------------------------------------

def test_paid_only_by_the_signed_webhook_once_and_the_customer_is_told(shop, prt, stripe_api, web):
    order, _ = pay_online(shop)
    session_id = order["payment"]["session_id"]
    stripe_api.pay(session_id)
    assert prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"  # paying alone changes nothing
    payload, headers = stripe_api.signed_event(session_id)
    res = post(web, payload, headers)
    assert res.status_code == 200 and res.get_json() == {"ok": True}
    paid = prt.store.orders.get(order["_id"])
    assert paid["status"] == "confirmed" and paid["payment"]["status"] == "paid"
    told = ORDER_UPDATES["paid"].format(number=order["number"])
    assert notices(web) == [told]
    shown = web.get(f"/api/orders/{order['_id']}", headers=OP).get_json()["order"]
    assert shown["payment"]["status"] == "paid" and shown["slot"]["label"] == order["slot"]["label"]
    again = post(web, payload, headers)  # Stripe delivers the same event again
    assert again.status_code == 200 and again.get_json() == {"ok": True, "duplicate": True}
    assert prt.store.orders.get(order["_id"])["history"] == paid["history"] and notices(web) == [told]
    replay = stripe_api.signed_event(session_id)  # the same payment as a new event id
    assert post(web, *replay).get_json() == {"ok": True, "duplicate": True}


@pytest.mark.parametrize("forgery", ["wrong secret", "tampered amount", "stale timestamp", "no signature",
                                     "not a signature"])
def test_forged_tampered_or_stale_webhooks_are_refused_and_change_nothing(shop, prt, stripe_api, web, forgery):
    order, _ = pay_online(shop)
    session_id = order["payment"]["session_id"]
    stripe_api.pay(session_id)
    if forgery == "wrong secret":
        payload, headers = stripe_api.signed_event(session_id, secret="whsec_attackerguess0123456")
    elif forgery == "tampered amount":
        payload, headers = stripe_api.signed_event(
            session_id, tamper=lambda e: e["data"]["object"].update(amount_total=1))
    elif forgery == "stale timestamp":
        payload, headers = stripe_api.signed_event(session_id, timestamp=int(time.time()) - 600)
    else:
        payload, headers = stripe_api.signed_event(session_id)
        headers = {"Content-Type": "application/json"} if forgery == "no signature" else \
            {**headers, "Stripe-Signature": "t=1,v0=abc"}
    res = post(web, payload, headers)
    assert res.status_code == 403 and res.get_json() == {"error": "signature verification failed"}
    after = prt.store.orders.get(order["_id"])
    assert after["status"] == "awaiting_payment" and after["payment"]["status"] == "pending"
    assert after["history"] == order["history"] and notices(web) == []


def test_a_signed_event_that_is_malformed_or_for_another_amount_gets_400(shop, prt, stripe_api, web):
    order, _ = pay_online(shop)
    session_id = order["payment"]["session_id"]
    stripe_api.pay(session_id)
    import hashlib
    import hmac

    t = int(time.time())
    for body in (b"not json", b'{"id": "evt_1", "type": "checkout.session.completed"}'):
        mac = hmac.new(WHSEC.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        res = post(web, body, {"Stripe-Signature": f"t={t},v1={mac}"})
        assert res.status_code == 400 and res.get_json() == {"error": "malformed event"}
    stripe_api.sessions[session_id]["amount_total"] = 100  # Stripe says a dollar was paid for a $48.89 order
    res = post(web, *stripe_api.signed_event(session_id))
    assert res.status_code == 400 and "does not match" in res.get_json()["error"]
    assert prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"


def test_unrelated_signed_events_are_acknowledged_and_ignored(shop, prt, stripe_api, web):
    order, _ = pay_online(shop)
    session_id = order["payment"]["session_id"]
    res = post(web, *stripe_api.signed_event(session_id, "checkout.session.completed"))  # not paid yet
    assert res.get_json() == {"ok": True, "ignored": "checkout.session.completed"}
    res = post(web, *stripe_api.signed_event(session_id, "customer.created"))
    assert res.status_code == 200 and prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"


# -- expiry -------------------------------------------------------------------------------------------

def test_an_unpaid_order_expires_giving_back_stock_and_slot_and_the_link_stops_working(shop, prt, stripe_api, web):
    before = prt.store.products.stock("APPLE")
    order, _ = pay_online(shop)
    assert expiry.sweep(prt) == 0  # not yet
    assert expiry.sweep(prt, now=order["payment"]["expires_at"] + 120) == 1
    gone = prt.store.orders.get(order["_id"])
    assert gone["status"] == "expired" and gone["payment"]["status"] == "expired"
    assert held(prt, order) == (before, 0)
    assert stripe_api.sessions[order["payment"]["session_id"]]["status"] == "expired"
    assert notices(web) == [ORDER_UPDATES["expired"].format(number=order["number"])]
    assert expiry.sweep(prt, now=order["payment"]["expires_at"] + 240) == 0  # once
    late = post(web, *stripe_api.signed_event(order["payment"]["session_id"], "checkout.session.expired"))
    assert late.status_code == 200 and held(prt, order) == (before, 0)


def test_stripes_expired_event_releases_the_order_too(shop, prt, stripe_api, web):
    before = prt.store.products.stock("APPLE")
    order, _ = pay_online(shop)
    res = post(web, *stripe_api.signed_event(order["payment"]["session_id"], "checkout.session.expired"))
    assert res.status_code == 200 and prt.store.orders.get(order["_id"])["status"] == "expired"
    assert held(prt, order) == (before, 0)


def test_a_payment_whose_webhook_never_came_is_found_by_the_sweep(shop, prt, stripe_api, web):
    order, _ = pay_online(shop)
    stripe_api.pay(order["payment"]["session_id"])
    assert expiry.sweep(prt, now=order["payment"]["expires_at"] + 120) == 0
    assert prt.store.orders.get(order["_id"])["payment"]["status"] == "paid"
    assert notices(web) == [ORDER_UPDATES["paid"].format(number=order["number"])]


def test_while_stripe_is_down_the_sweep_waits_then_gives_up(shop, prt, stripe_api):
    order, _ = pay_online(shop)
    due = order["payment"]["expires_at"]
    stripe_api.fail_next(503, times=6)
    assert expiry.sweep(prt, now=due + 120) == 0  # cannot ask Stripe: the order keeps its stock for now
    assert prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"
    stripe_api.fail_next(503, times=6)
    assert expiry.sweep(prt, now=due + 2 * 3600) == 1  # an hour past: released anyway


def test_a_payment_after_expiry_is_recorded_for_a_refund(shop, prt, stripe_api, web):
    order, _ = pay_online(shop)
    session_id = order["payment"]["session_id"]
    stripe_api.pay(session_id)
    prt.store.orders.expire(order["_id"])  # released before the payment was seen (Stripe was down)
    res = post(web, *stripe_api.signed_event(session_id))
    assert res.get_json() == {"ok": True, "late": True}
    gone = prt.store.orders.get(order["_id"])
    assert gone["status"] == "expired" and gone["payment"]["status"] == "paid_after_release"
    assert prt.store.audit.recent(action="payment.after_release")


def test_cancelling_an_unpaid_order_closes_its_link(shop, prt, stripe_api):
    before = prt.store.products.stock("APPLE")
    order, _ = pay_online(shop)
    shop.say("3", user="payer", phone=PHONE)
    shop.say("1", user="payer", phone=PHONE)
    assert "is cancelled" in shop.texts("yes", user="payer", phone=PHONE)
    assert held(prt, order) == (before, 0)
    expiry.sweep(prt)  # out of the customer's turn
    assert stripe_api.sessions[order["payment"]["session_id"]]["status"] == "expired"
    assert prt.store.orders.get(order["_id"])["payment"]["status"] == "cancelled"


# -- a slow or dead Stripe ------------------------------------------------------------------------------

def test_stripe_failing_once_is_retried_by_the_sdk_with_one_session(shop, prt, stripe_api):
    stripe_api.fail_next(500)
    order, said = pay_online(shop)
    assert "Pay securely here" in said and len(stripe_api.sessions) == 1


@pytest.mark.parametrize("how", ["down", "slow"])
def test_a_dead_or_slow_stripe_places_the_order_to_pay_on_delivery(shop, prt, stripe_api, how):
    if how == "down":
        stripe_api.fail_next(503, times=3)
    else:
        stripe_api.delay(1.0)  # twice the timeout, every try
    started = time.monotonic()
    try:
        order, said = pay_online(shop)
    finally:
        stripe_api.delay(0)
    assert time.monotonic() - started < 15
    assert f"I couldn't reach the payment service just now, so order #{order['number']} is placed to pay on " \
           "delivery instead." in said
    assert order["status"] == "confirmed" and order["payment"] == {"method": "on_delivery", "status": "on_delivery",
                                                                   "fallback": True,
                                                                   "expires_at": order["payment"]["expires_at"]}


def test_a_shop_that_only_takes_online_payment_retries_the_message_instead(shop, prt, stripe_api):
    order, _ = pay_online(shop)
    prt.store.payments.col.update_one({"_id": order["_id"]}, {"$unset": {"payment.url": "", "payment.session_id": ""}})
    stripe_api.fail_next(503, times=3)
    with pytest.raises(PaymentUnavailable) as err:
        links.create(prt, order["_id"], on_delivery_allowed=False)
    assert isinstance(err.value, TransientError)
    assert prt.store.orders.get(order["_id"])["status"] == "awaiting_payment"


# -- settings and the shop file ------------------------------------------------------------------------

def test_online_payment_needs_the_stripe_settings(tmp_path):
    from bot.shop.rules_source import ShopFileError, ShopSource

    settings = load_settings({}, SHOP_FILE=shop_file(tmp_path))
    with pytest.raises(ShopFileError, match="payment method 'online' needs the STRIPE_SECRET_KEY"):
        ShopSource(settings)


def test_the_webhook_route_exists_only_with_stripe(client):
    assert client.post("/webhooks/stripe", data=b"{}").status_code == 404


# -- the slot and the payment where operators look ------------------------------------------------------

def test_slot_and_payment_on_the_operator_api_and_dashboard_and_cancelling_frees_the_slot(shop, prt, web,
                                                                                          stripe_api):
    to_payment(shop)
    shop.say("1", user="payer", phone=PHONE)  # on delivery
    assert "is placed" in shop.texts("yes", user="payer", phone=PHONE)
    [order] = prt.store.orders.search(phone=PHONE)
    slots = web.get("/api/slots", headers=OP).get_json()["slots"]
    mine = next(s for s in slots if s["id"] == order["slot"]["id"])
    assert mine["booked"] == 1 and mine["capacity"] == 10 and mine["when"] == order["slot"]["when"]
    row = web.get("/api/dashboard", headers=OP).get_json()["orders"][0]
    assert row["slot"] == order["slot"]["when"] and row["payment"] == "on delivery"
    assert row["total_cents"] == 4889
    web.post(f"/api/orders/{order['_id']}/status", json={"status": "cancelled"}, headers=OP)
    assert prt.store.slots.booked([order["slot"]["id"]])[order["slot"]["id"]] == 0
    other, _ = pay_online(shop, user="other", phone="+14155550302")
    assert web.get("/api/dashboard", headers=OP).get_json()["orders"][0]["payment"] == "online · waiting"
    stripe_api.pay(other["payment"]["session_id"])
    post(web, *stripe_api.signed_event(other["payment"]["session_id"]))
    row = web.get("/api/dashboard", headers=OP).get_json()["orders"][0]
    assert row["payment"] == "online · paid" and row["status"] == "confirmed"
