"""Tier 2: POST /api/chat through Flask's test client, on the embedded runtime with a worker thread."""
from __future__ import annotations

import json

import pytest

from bot.common import redis_keys
from bot.pipeline import keys as pkeys
from tests.conftest import API_TOKEN, OPERATOR_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def worker(rt):
    from workers.run import InProcessWorker

    w = InProcessWorker(rt, poll=0.02).start()
    yield w
    w.stop()


def chat(client, body, headers=AUTH, **kw):
    return client.post("/api/chat", data=json.dumps(body) if not isinstance(body, (str, bytes)) else body,
                       headers={"Content-Type": "application/json", **headers}, **kw)


def nothing_enqueued(rt) -> bool:
    return rt.redis.zcard(pkeys.READY) == 0 and not rt.redis.keys("ol:{i.*}:mbox")


def test_a_message_gets_the_bots_replies_and_state(client, worker):
    res = chat(client, {"user_id": "ana", "message": "hi", "phone": "+14155552671"})
    assert res.status_code == 200
    body = res.get_json()
    assert body["state"] == "register"
    assert any("What's your name?" in r for r in body["replies"])


def test_full_order_through_the_api_lands_in_the_store(client, worker, rt):
    user = {"user_id": "ana", "phone": "+14155552671"}
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "1", "2 kg of apples and a dozen eggs", "done"):
        assert chat(client, {**user, "message": line}).status_code == 200
    body = chat(client, {**user, "message": "yes"}).get_json()
    assert body["state"] == "menu" and "is placed" in body["replies"][0]
    [order] = rt.store.orders.find({"phone": "+14155552671"})
    catalog = rt.catalog.current()
    expected = 2 * catalog.get("APPLE").price_cents + 12 * catalog.get("EGGS").price_cents
    assert order["status"] == "confirmed" and order["total_cents"] == expected
    assert {(line["sku"], line["quantity"]) for line in order["lines"]} == {("APPLE", 2), ("EGGS", 12)}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": API_TOKEN},
                                     {"Authorization": f"Basic {API_TOKEN}"},
                                     {"Authorization": f"Bearer {OPERATOR_TOKEN}"}])
def test_without_the_api_token_401_and_nothing_enqueued(client, rt, headers):
    res = chat(client, {"user_id": "ana", "message": "hi"}, headers=headers)
    assert res.status_code == 401
    assert res.get_json() == {"error": "missing or wrong bearer token"}
    assert nothing_enqueued(rt)


@pytest.mark.parametrize("body, reason", [
    ("{not json", "body is not valid JSON"),
    ("[1, 2]", "body must be a JSON object"),
    ({"message": "hi"}, "user_id: Field required"),
    ({"user_id": "ana"}, "message: Field required"),
    ({"user_id": "ana", "message": ""}, "message: String should have at least 1 character"),
    ({"user_id": "ana", "message": "   "}, "message: String should have at least 1 character"),
    ({"user_id": "a b", "message": "hi"}, "user_id: String should match pattern"),
    ({"user_id": "ana", "message": "hi", "phone": "0123"}, "phone: String should match pattern"),
    ({"user_id": "ana", "message": "x" * 4097}, "message: String should have at most 4096 characters"),
    ({"user_id": "ana", "message": "hi", "admin": True}, "admin: Extra inputs are not permitted"),
    ({"user_id": 7, "message": "hi"}, "user_id: Input should be a valid string"),
])
def test_malformed_requests_get_400_with_a_reason(client, rt, body, reason):
    res = chat(client, body)
    assert res.status_code == 400
    assert res.get_json()["error"].startswith(reason)
    assert nothing_enqueued(rt)


def test_wrong_content_type_is_415(client, rt):
    res = client.post("/api/chat", data="user_id=ana&message=hi", headers=AUTH)
    assert res.status_code == 415 and "application/json" in res.get_json()["error"]
    assert nothing_enqueued(rt)


def test_a_megabyte_body_is_refused_with_413(client, rt):
    body = json.dumps({"user_id": "ana", "message": "x" * (1024 * 1024)})
    res = chat(client, body)
    assert res.status_code == 413 and res.get_json()["error"]
    assert nothing_enqueued(rt)


def test_wrong_method_and_unknown_route_are_json(client):
    assert client.get("/api/chat", headers=AUTH).get_json()["error"]
    res = client.get("/nope")
    assert res.status_code == 404 and "error" in res.get_json()


def test_same_message_id_twice_is_processed_once(client, worker, rt):
    body = {"user_id": "ana", "message": "hi", "phone": "+14155552671", "message_id": "m-1"}
    first = chat(client, body).get_json()
    second = chat(client, body).get_json()
    assert second["duplicate"] is True and second["replies"] == first["replies"]
    assert rt.store.messages.count({"direction": "in"}) == 1
    assert int(rt.redis.hget(redis_keys.STATS, "duplicates:api")) == 1


def test_message_ids_are_per_user(client, worker, rt):
    chat(client, {"user_id": "ana", "message": "hi", "message_id": "1"})
    res = chat(client, {"user_id": "bob", "message": "hi", "message_id": "1"}).get_json()
    assert "duplicate" not in res and rt.store.messages.count({"direction": "in"}) == 2


def test_past_the_wait_bound_202_then_poll(client, rt, settings):
    settings.CHAT_WAIT_SECONDS = 0.05  # no worker runs yet
    res = chat(client, {"user_id": "ana", "message": "hi", "phone": "+14155552671"})
    assert res.status_code == 202
    body = res.get_json()
    assert body["status"] == "processing" and body["poll"].startswith("/api/chat/")
    assert client.get(body["poll"], headers=AUTH).status_code == 202
    from tests.support.pipeline import Pipeline

    Pipeline(rt).drain()
    polled = client.get(body["poll"], headers=AUTH)
    assert polled.status_code == 200 and polled.get_json()["state"] == "register"
    # the reply is only for the user who sent it
    other = client.get(f"/api/chat/{body['message_id']}?user_id=mallory", headers=AUTH)
    assert other.status_code == 404
    assert client.get(body["poll"]).status_code == 401
    assert client.get("/api/chat/unknown?user_id=ana", headers=AUTH).status_code == 404


def test_products_need_a_token_and_list_prices_in_cents(client, rt):
    assert client.get("/api/products").status_code == 401
    body = client.get("/api/products?q=apple", headers=AUTH).get_json()
    assert body["currency"] == "USD"
    apple = next(p for p in body["products"] if p["sku"] == "APPLE")
    assert isinstance(apple["price_cents"], int) and apple["price_cents"] == rt.catalog.current().get("APPLE").price_cents
    everything = client.get("/api/products", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).get_json()
    assert everything["total"] == len(rt.catalog.current()) >= 60
    assert client.get("/api/products?limit=x", headers=AUTH).status_code == 400


def test_health_and_readiness(client, rt, monkeypatch):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"redis": True, "mongodb": True}

    def down():
        raise ConnectionError("no route")

    monkeypatch.setattr(rt.redis, "ping", down)
    res = client.get("/readyz")
    assert res.status_code == 503 and res.get_json()["checks"]["redis"] is False


def test_dev_page_only_in_the_embedded_default(client, rt):
    page = client.get("/")
    assert page.status_code == 200 and b"chat with Orderline" in page.data
    import dataclasses

    from bot.app import create_app
    from bot.config import load_settings

    prod = load_settings({}, REDIS_URL="redis://127.0.0.1:1/0", MONGO_URI="mongodb://127.0.0.1:1",
                         API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN)
    app = create_app(dataclasses.replace(rt, settings=prod))
    assert app.test_client().get("/").status_code == 404
