"""The operator API behind the console: an order found by the number the customer knows, by phone
or its last digits, by slot; its detail with the full phone, each view audited; notes; and product
edits that are huge, hostile or wrong refused with a clear 4xx."""
from __future__ import annotations

import json

import pytest

from tests.support.operators import OP

WA, API_PHONE = "+14155550801", "+14155550802"


def order_on(pipeline, who, phone, item="a dozen eggs"):
    for line in ("hi", "Dee", "5 Main Street, Springfield", "1", item, "done", "yes"):
        pipeline.say(line, user=who, phone=phone)
    return pipeline.rt.store.orders.search(phone=phone)[0]


def test_an_order_is_found_by_its_number_phone_digits_and_slot(client, pipeline, rt):
    first = order_on(pipeline, "ana", WA)
    second = order_on(pipeline, "bo", API_PHONE, "2 kg of apples")
    got = client.get(f"/api/orders/{first['number']}", headers=OP)
    assert got.status_code == 200 and got.get_json()["order"]["id"] == first["_id"]
    assert client.get(f"/api/orders/%23{second['number']}", headers=OP).get_json()["order"]["id"] == second["_id"]
    assert client.get("/api/orders/999999", headers=OP).status_code == 404

    def ids(query):
        res = client.get(f"/api/orders?{query}", headers=OP)
        assert res.status_code == 200, res.get_json()
        return [o["id"] for o in res.get_json()["orders"]]

    assert ids(f"number={first['number']}") == [first["_id"]]
    assert ids(f"q={second['number']}") == [second["_id"]]
    assert ids("phone=0801") == [first["_id"]] and ids("q=4155550802") == [second["_id"]]
    assert ids(f"q=%2B{WA[1:]}") == [first["_id"]]
    rt.store.orders.col.update_one({"_id": first["_id"]}, {"$set": {"slot": {"id": "2026-12-01T10", "label": "Tue 10 AM"}}})
    assert ids("slot=2026-12-01T10") == [first["_id"]]
    for bad in ("number=abc", "phone=12", "slot=a%20b", "q=hello"):
        assert client.get(f"/api/orders?{bad}", headers=OP).status_code == 400, bad


def test_the_full_phone_is_on_the_detail_only_and_each_view_is_audited(client, pipeline, rt):
    order = order_on(pipeline, "ana", WA)
    listed = client.get("/api/orders", headers=OP).get_json()["orders"][0]
    assert listed["phone"] != WA and listed["phone"].endswith("0801")
    moved = client.post(f"/api/orders/{order['number']}/status", json={"status": "preparing"}, headers=OP).get_json()
    assert moved["order"]["phone"] != WA and moved["order"]["next"] == ["out_for_delivery", "delivered", "cancelled"]
    for _ in range(2):
        detail = client.get(f"/api/orders/{order['number']}", headers=OP).get_json()["order"]
        assert detail["phone"] == WA and detail["lines"][0]["sku"] == "EGGS" and "key" not in detail
    views = rt.store.audit.recent(10, "order.view")
    assert len(views) == 2 and all(v["target"] == f"order:{order['number']}" and WA not in json.dumps(v)
                                   for v in views)
    assert [h["status"] for h in detail["history"]] == ["pending", "confirmed", "preparing"]
    assert detail["history"][-1]["by"].startswith("operator:")


def test_notes_are_kept_with_the_order_and_audited(client, pipeline, rt):
    order = order_on(pipeline, "ana", WA)
    res = client.post(f"/api/orders/{order['number']}/notes", json={"text": "  back door  "}, headers=OP)
    assert res.status_code == 201 and [n["text"] for n in res.get_json()["notes"]] == ["back door"]
    assert client.post(f"/api/orders/{order['number']}/notes", json={"text": ""}, headers=OP).status_code == 400
    assert client.post(f"/api/orders/{order['number']}/notes", json={"text": "x" * 501}, headers=OP).status_code == 400
    assert client.post("/api/orders/nope/notes", json={"text": "hi"}, headers=OP).status_code == 404
    assert client.post(f"/api/orders/{order['number']}/notes", json={"text": "hi"}).status_code == 401
    [entry] = rt.store.audit.recent(5, "order.note")
    assert entry["details"] == {"chars": 9}


@pytest.mark.parametrize("body", [
    {"stock": 1e12}, {"stock": 2.5}, {"price_cents": 10**12}, {"price_cents": -1}, {"available": "yes"},
    {"available": None}, {"stock": "12"}, {"name": "Free eggs"}, [], "eggs"])
def test_hostile_or_wrong_product_edits_are_refused_with_the_reason(client, rt, body):
    before = rt.store.products.get("EGGS")
    res = client.patch("/api/products/EGGS", json=body, headers=OP)
    assert res.status_code == 400 and res.get_json()["error"], (body, res.get_json())
    assert rt.store.products.get("EGGS") == before


def test_nan_infinity_an_oversized_body_and_strange_skus_are_refused(client, rt):
    headers = {**OP, "Content-Type": "application/json"}
    for raw in ('{"stock": NaN}', '{"stock": Infinity}', '{"price_cents": 1e400}'):
        assert client.patch("/api/products/EGGS", data=raw, headers=headers).status_code == 400, raw
    huge = json.dumps({"stock": 1, "pad": "x" * (rt.settings.MAX_BODY_BYTES + 10)})
    assert client.patch("/api/products/EGGS", data=huge, headers=headers).status_code == 413
    for sku in ("eggs", "EGGS%00", "A" * 41, "..%2F..%2Fetc"):
        assert client.patch(f"/api/products/{sku}", json={"stock": 1}, headers=OP).status_code == 404, sku
    ok = client.patch("/api/products/APPLE", json={"stock": 12.5, "available": False}, headers=OP)
    assert ok.status_code == 200 and rt.store.products.stock("APPLE") == 0  # off sale: nothing can be sold
    assert rt.store.products.col.find_one({"sku": "APPLE"})["stock"] == 12.5  # weighed: fractions are fine
    assert rt.store.products.get("APPLE").available is False
