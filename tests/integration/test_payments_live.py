"""Stripe on the production-shaped stack: real worker processes make the link (real SDK, fake API),
and the same signed webhook arrives many times at once, racing the expiry sweep that finds the
payment itself: the order is paid once and the customer told once."""
from __future__ import annotations

import threading

import pytest

from bot.payments import expiry
from tests.support.scenarios import shop_rules

pytestmark = pytest.mark.integration


def test_the_same_payment_arriving_eight_times_at_once_and_the_sweep_pays_the_order_once(live):
    from tests.conftest import API_TOKEN

    live.use_shop(shop_rules({"hours": "always", "payment": {"methods": ["on_delivery", "online"]}}))
    live.rt.store.products.update("APPLE", stock=1000)
    user, phone = live.unique("payer"), "+14155550777"
    try:
        for line in ("hi", "Pat Racer", "3 Main Street, Springfield", "1", "10 kg of apples", "done", "1", "2"):
            live.chat(user, line, phone)
        said = "\n".join(live.chat(user, "yes", phone)["replies"])
    finally:
        live.use_shop(None)
    [order] = live.rt.store.orders.find({"phone": phone, "status": "awaiting_payment"}, limit=1)
    assert "Pay securely here: https://checkout.stripe.com/c/pay/" in said
    session = order["payment"]["session_id"]
    live.stripe.pay(session)
    payload, headers = live.stripe.signed_event(session)
    app, gate, answers = live.client.application, threading.Barrier(9), []

    def deliver():
        client = app.test_client()
        gate.wait()
        answers.append(client.post("/webhooks/stripe", data=payload, headers=headers).get_json())

    def sweep():
        gate.wait()
        expiry.sweep(live.rt, now=order["payment"]["expires_at"] + 120)

    threads = [threading.Thread(target=deliver) for _ in range(8)] + [threading.Thread(target=sweep)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8 and all(a["ok"] for a in answers)
    paid = live.rt.store.orders.get(order["_id"])
    assert paid["status"] == "confirmed" and paid["payment"]["status"] == "paid"
    assert [h["status"] for h in paid["history"]].count("paid") == 1
    got = live.client.get(f"/api/notices?user_id={user}&peek=1", headers={"Authorization": f"Bearer {API_TOKEN}"})
    texts = [n["text"] for n in got.get_json()["notices"]]
    assert sum("Payment received" in t for t in texts) == 1
