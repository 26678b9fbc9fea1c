"""Tier 3: the whole pipeline on a real redis-server with two real worker processes.

HTTP is served by this test process (Flask's client on the production runtime); the workers are
separate OS processes; MongoDB is the shared wire server. Nothing here is mocked.
"""
from __future__ import annotations

import threading

import pytest

from tests.support.live import AUTH

pytestmark = pytest.mark.integration


def register(live, user, phone):
    live.chat(user, "hi", phone)
    live.chat(user, "Test Customer", phone)
    return live.chat(user, "1 Test Street, Springfield", phone)


def test_a_full_order_lands_in_the_store_with_catalog_prices(live):
    user, phone = live.unique("ana"), "+14155550101"
    assert register(live, user, phone)["state"] == "menu"
    live.chat(user, "1", phone)
    live.chat(user, "2 kg of apples and a dozen eggs", phone)
    assert live.chat(user, "done", phone)["state"] == "confirm"
    reply = live.chat(user, "yes", phone)
    assert reply["state"] == "menu" and "is placed" in reply["replies"][0]
    [order] = live.rt.store.orders.find({"phone": phone})
    prices = {p.sku: p.price_cents for p in live.rt.store.products.all()}
    assert order["total_cents"] == 2 * prices["APPLE"] + 12 * prices["EGGS"]
    assert order["status"] == "confirmed"


def test_one_customers_burst_is_in_order_while_another_proceeds_in_parallel(live):
    a, b = live.unique("burst-a"), live.unique("burst-b")
    pa, pb = "+14155550102", "+14155550103"
    for user, phone in ((a, pa), (b, pb)):
        register(live, user, phone)
        live.chat(user, "1", phone)
    lines = [f"{n} kg of apples" if n % 2 else "remove the apples" for n in range(1, 11)]
    live.set_step_delay(0.05)
    results: dict[str, list] = {a: [], b: []}
    try:
        def burst(user, phone):
            ids = [f"{user}-{i}" for i in range(len(lines))]
            accepted = []
            for message_id, line in zip(ids, lines, strict=True):  # fire all without waiting for replies
                res = live.client.post("/api/chat", json={"user_id": user, "message": line, "phone": phone,
                                                          "message_id": message_id}, headers=AUTH)
                accepted.append(res.get_json()["message_id"])
            results[user] = [live.poll(m, user)["replies"][0] for m in accepted]

        # post the messages concurrently from two threads, as two phones would
        threads = [threading.Thread(target=burst, args=(a, pa)), threading.Thread(target=burst, args=(b, pb))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        live.set_step_delay(0)
    # in order: each reply reflects exactly the lines before it
    for user in (a, b):
        for n, reply in enumerate(results[user], 1):
            if n % 2:
                assert f"Added {n} kg × Apples" in reply, (user, n, reply)
            else:
                assert "Removed Apples" in reply, (user, n, reply)
    rows = {u: sorted(live.rt.store.db.messages.find({"direction": "in", "identity": f"api:{u}",
                                                       "text": {"$in": lines}}), key=lambda r: r["processed_at"])
            for u in (a, b)}
    for user in (a, b):
        assert [r["text"] for r in rows[user]] == lines
    # in parallel: the two customers were handled at overlapping times (by two lanes, of one worker
    # process or of two)
    span = {u: (rows[u][0]["processed_at"], rows[u][-1]["processed_at"]) for u in (a, b)}
    assert span[a][0] < span[b][1] and span[b][0] < span[a][1], span


def test_the_same_message_id_delivered_twice_is_processed_once(live):
    user, phone = live.unique("dup"), "+14155550104"
    first = live.chat(user, "hi", phone, message_id="once")
    second = live.chat(user, "hi", phone, message_id="once")
    assert second.get("duplicate") is True and second["replies"] == first["replies"]
    assert live.rt.store.messages.count({"identity": f"api:{user}", "direction": "in"}) == 1
