"""The operators' order and product routes: list and filter, move an order on (the customer hears it
on their own channel), cancel with stock back, illegal moves refused, prices and stock edited."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from statemachine.prompts import ORDER_UPDATES
from tests.conftest import API_TOKEN
from tests.support.operators import OP

WA, API_PHONE = "+14155550201", "+14155550202"
ROUTES = [("GET", "/api/orders"), ("GET", "/api/orders/x"), ("POST", "/api/orders/x/status"),
          ("PATCH", "/api/products/EGGS"), ("GET", "/api/customers/+14155550201/history"),
          ("GET", "/api/customers/+14155550201/export"), ("DELETE", "/api/customers/+14155550201"),
          ("GET", "/api/audit"), ("GET", "/api/handoffs"), ("POST", "/api/handoffs/k/reply"),
          ("POST", "/api/handoffs/k/handback"), ("GET", "/api/deadletters"), ("POST", "/api/deadletters/x/retry")]


def order_on(pipeline, channel, who, phone, item="a dozen eggs") -> dict:
    lines = ("hi", "Dee", "5 Main Street, Springfield", "1", item, "done", "yes")
    for line in lines:
        if channel == "whatsapp":
            pipeline.send(line, channel=channel, address=who, phone=phone)
            pipeline.drain()
        else:
            pipeline.say(line, channel=channel, user=who, phone=phone)
    pipeline.deliver()
    [order] = pipeline.rt.store.orders.search(phone=phone)
    return order


def move(client, order_id, status, headers=OP):
    return client.post(f"/api/orders/{order_id}/status", json={"status": status}, headers=headers)


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_operator_route_needs_the_operator_token(client, method, path):
    assert client.open(path, method=method, json={}).status_code == 401
    assert client.open(path, method=method, json={}, headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 401


def test_orders_are_listed_newest_first_and_filtered(client, pipeline):
    first = order_on(pipeline, "whatsapp", WA, WA)
    second = order_on(pipeline, "api", "dee", API_PHONE, "2 kg of apples")
    listed = client.get("/api/orders", headers=OP).get_json()["orders"]
    assert [o["number"] for o in listed] == [second["number"], first["number"]]
    for query in (f"customer={WA}", f"phone=%2B{WA[1:]}"):  # an unencoded + arrives as a space: accepted too
        assert [o["id"] for o in client.get(f"/api/orders?{query}", headers=OP).get_json()["orders"]] == [first["_id"]]
    assert client.get("/api/orders?customer=12", headers=OP).status_code == 400
    move(client, first["_id"], "preparing")
    assert [o["id"] for o in client.get("/api/orders?status=preparing", headers=OP).get_json()["orders"]] == [first["_id"]]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert client.get(f"/api/orders?date={today}", headers=OP).get_json()["count"] == 2
    assert client.get("/api/orders?date=2001-01-01", headers=OP).get_json()["count"] == 0
    assert client.get(f"/api/orders?since={time.time() + 60}", headers=OP).get_json()["count"] == 0
    assert client.get("/api/orders?status=lost", headers=OP).status_code == 400
    assert client.get("/api/orders?date=yesterday", headers=OP).status_code == 400
    got = client.get(f"/api/orders/{first['_id']}", headers=OP).get_json()["order"]
    assert got["status"] == "preparing" and got["identity"] == f"whatsapp:{WA}" and "key" not in got
    assert client.get("/api/orders/nope", headers=OP).status_code == 404


def test_each_move_reaches_the_customer_on_their_own_channel(client, pipeline, senders):
    order = order_on(pipeline, "whatsapp", WA, WA)
    before = len(senders["whatsapp"].sent)
    for status in ("preparing", "out_for_delivery", "delivered"):
        res = move(client, order["_id"], status)
        assert res.status_code == 200 and res.get_json()["order"]["status"] == status
        assert res.get_json()["notified"] == "outbound"
    pipeline.deliver()
    told = senders["whatsapp"].texts(WA)[before:]
    assert told == [ORDER_UPDATES[s].format(number=order["number"]) for s in ("preparing", "out_for_delivery", "delivered")]
    history = pipeline.rt.store.orders.get(order["_id"])["history"]
    assert [h["status"] for h in history] == ["pending", "confirmed", "preparing", "out_for_delivery", "delivered"]
    assert history[-1]["by"].startswith("operator:")
    # the notices are part of the customer's history too
    assert pipeline.rt.store.messages.count({"phone": WA, "text": told[-1], "direction": "out"}) == 1


def test_illegal_moves_are_refused_with_409(client, pipeline):
    order = order_on(pipeline, "whatsapp", WA, WA)
    assert move(client, order["_id"], "out_for_delivery").status_code == 200  # skipping ahead is forward
    res = move(client, order["_id"], "preparing")
    assert res.status_code == 409 and "out_for_delivery" in res.get_json()["error"]
    assert move(client, order["_id"], "cancelled").status_code == 409  # on its way: too late to cancel
    assert move(client, order["_id"], "confirmed").status_code == 400  # not a move anyone makes
    assert move(client, order["_id"], "shipped").status_code == 400
    assert move(client, "nope", "preparing").status_code == 404
    assert pipeline.rt.store.orders.get(order["_id"])["status"] == "out_for_delivery"


def test_cancelling_puts_the_stock_back_and_tells_the_customer(client, pipeline, senders, rt):
    stock = rt.store.products.stock("EGGS")
    order = order_on(pipeline, "whatsapp", WA, WA)
    assert rt.store.products.stock("EGGS") == stock - 12
    res = move(client, order["_id"], "cancelled")
    assert res.status_code == 200 and res.get_json()["order"]["status"] == "cancelled"
    assert rt.store.products.stock("EGGS") == stock
    pipeline.deliver()
    assert senders["whatsapp"].texts(WA)[-1] == ORDER_UPDATES["cancelled"].format(number=order["number"])
    assert move(client, order["_id"], "cancelled").status_code == 409  # once
    assert client.get("/stats", headers=OP).get_json()["orders"]["cancelled"] == 1


def test_a_synchronous_customer_finds_the_update_in_their_notices(client, pipeline):
    order = order_on(pipeline, "api", "dee", API_PHONE)
    assert move(client, order["_id"], "preparing").get_json()["notified"] == "notices"
    api = {"Authorization": f"Bearer {API_TOKEN}"}
    assert client.get("/api/notices?user_id=dee", headers=OP).status_code == 401
    assert client.get("/api/notices?user_id=someone-else", headers=api).get_json()["notices"] == []
    got = client.get("/api/notices?user_id=dee", headers=api).get_json()["notices"]
    assert [n["text"] for n in got] == [ORDER_UPDATES["preparing"].format(number=order["number"])]
    assert got[0]["kind"] == "order_update"
    assert client.get("/api/notices?user_id=dee", headers=api).get_json()["notices"] == []  # handed out once
    assert client.get("/api/notices", headers=api).status_code == 400


def test_price_and_stock_edits_reach_the_next_order(client, pipeline, rt):
    res = client.patch("/api/products/EGGS", json={"price_cents": 50, "stock": 240}, headers=OP)
    assert res.status_code == 200 and res.get_json()["product"]["price_cents"] == 50
    order = order_on(pipeline, "api", "dee", API_PHONE)
    assert order["total_cents"] == 12 * 50 and rt.store.products.stock("EGGS") == 240 - 12
    [entry] = client.get("/api/audit?action=product.update", headers=OP).get_json()["entries"]
    assert entry["target"] == "product:EGGS" and entry["details"]["price_cents"]["after"] == 50
    for bad in ({}, {"price_cents": 0}, {"price_cents": "12"}, {"stock": -1}, {"price_cents": 2.5}, {"colour": 1}):
        assert client.patch("/api/products/EGGS", json=bad, headers=OP).status_code == 400, bad
    assert client.patch("/api/products/NOPE", json={"stock": 1}, headers=OP).status_code == 404
    assert client.patch("/api/products/EGGS", data="x", headers=OP).status_code == 415


def test_operator_actions_are_audited_without_the_token(client, pipeline):
    order = order_on(pipeline, "whatsapp", WA, WA)
    move(client, order["_id"], "preparing")
    [entry] = client.get("/api/audit", headers=OP).get_json()["entries"]
    assert entry["action"] == "order.status" and entry["target"] == f"order:{order['number']}"
    assert entry["details"] == {"before": "confirmed", "after": "preparing", "notified": "outbound"}
    assert entry["who"].startswith("operator:") and OP["Authorization"][7:] not in str(entry)
    assert time.time() - entry["at"] < 60
