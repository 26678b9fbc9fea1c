"""Item 6: one global integrator token and one global operator token meant anyone holding one could
act as any phone, and the audit log's "who" was a fingerprint of a shared secret. Now each
integrator and operator has a named token; the audit log names who acted; an integrator can be
held to vouching for phones, or to codes."""
from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings
from tests.security.conftest import OP, chat, codes_to, register_and_order, said
from tests.support import webhooks as wh

TOKENS = {"ana": "ana-token-0123456789abcdef", "ben": "ben-token-0123456789abcdef",
          "callcentre": "cc-token-0123456789abcdef", "partner": "partner-token-0123456789",
          "appa": "appa-token-0123456789abcd", "appb": "appb-token-0123456789abcd"}
ENV = {"OPERATOR_TOKENS": f"ana={TOKENS['ana']}, ben={TOKENS['ben']}",
       "API_TOKENS": f"callcentre:code={TOKENS['callcentre']},partner:vouch={TOKENS['partner']},"
                     f"appa={TOKENS['appa']},appb={TOKENS['appb']}"}
P = "+14155550606"


def bearer(name: str) -> dict:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


@pytest.fixture
def shop_env():
    return ENV


def test_the_audit_log_names_the_operator_who_acted(client, worker, shop):
    register_and_order(client, "shopper", P, "Nia Nash", "5 Elm Street, Springfield")
    [order] = shop.store.orders.find({"phone": P})
    assert client.post(f"/api/orders/{order['_id']}/status", json={"status": "preparing"},
                       headers=bearer("ana")).status_code == 200
    assert client.get(f"/api/customers/{P}/export", headers=bearer("ben")).status_code == 200
    assert client.delete(f"/api/customers/{P}", headers=OP).status_code == 200  # the single token: "default"
    entries = client.get("/api/audit", headers=bearer("ana")).get_json()["entries"]
    assert [(e["who"], e["action"]) for e in entries] == [
        ("operator:default", "customer.delete"), ("operator:ben", "customer.export"), ("operator:ana", "order.status")]
    assert not any(t in str(entries) for t in TOKENS.values())


def test_integrator_and_operator_tokens_open_only_their_own_doors(client, worker, shop):
    assert client.get("/api/audit", headers=bearer("appa")).status_code == 401
    assert chat(client, "u", "hi", headers=bearer("ana")).status_code == 401
    assert client.get("/api/products", headers=bearer("appa")).status_code == 200
    assert client.get("/api/products", headers=bearer("ben")).status_code == 200
    assert client.get("/api/audit", headers={"Authorization": f"Bearer {TOKENS['ana']}x"}).status_code == 401


def test_an_integrator_held_to_codes_cannot_vouch_for_a_phone(client, worker, shop):
    res = chat(client, "desk-1", "hi", P, headers=bearer("callcentre"))
    assert res.status_code == 403 and "may not vouch" in res.get_json()["error"]
    assert wh.nothing_queued(shop)
    assert "phone number" in said(client, "desk-1", "hi", headers=bearer("callcentre"))
    said(client, "desk-1", P, headers=bearer("callcentre"))
    assert "What's your name?" in said(client, "desk-1", codes_to(shop, P)[-1], headers=bearer("callcentre"))


def test_an_integrator_held_to_vouching_can_never_make_the_shop_send_a_code(client, worker, shop):
    res = chat(client, "p-1", P, headers=bearer("partner"))
    assert res.status_code == 400 and "must vouch" in res.get_json()["error"]
    assert wh.nothing_queued(shop) and shop.senders["sms"].sent == []
    assert "What's your name?" in said(client, "p-1", "hi", P, headers=bearer("partner"))


def test_two_integrators_users_with_one_id_are_two_people(client, worker, shop):
    said(client, "u1", "hi", headers=bearer("appa"))
    said(client, "u1", P, headers=bearer("appa"))
    said(client, "u1", codes_to(shop, P)[-1], headers=bearer("appa"))
    said(client, "u1", "Nia Nash", headers=bearer("appa"))
    said(client, "u1", "5 Elm Street, Springfield", headers=bearer("appa"))
    # appb's own "u1" is someone else: not linked to P, not Nia
    heard = said(client, "u1", "hi", headers=bearer("appb")) + said(client, "u1", "order status", headers=bearer("appb"))
    assert "Nia" not in heard and "phone number" in heard
    # the same client message id from each is two messages, and neither can read the other's reply
    a = client.post("/api/chat", json={"user_id": "u1", "message": "menu", "message_id": "m1"},
                    headers=bearer("appa")).get_json()
    b = client.post("/api/chat", json={"user_id": "u1", "message": "menu", "message_id": "m1"}, headers=bearer("appb"))
    assert b.status_code == 200 and not b.get_json().get("duplicate")
    assert client.get(f"/api/chat/{a['message_id']}?user_id=u1", headers=bearer("appb")).status_code == 404
    assert client.get(f"/api/chat/{a['message_id']}?user_id=u1", headers=bearer("appa")).status_code == 200


def test_a_revoked_token_no_longer_opens_anything(fake_redis, store, senders):
    from bot.app import create_app

    env = dict(ENV, OPERATOR_TOKENS=f"ben={TOKENS['ben']}")  # ana's pair removed from the setting
    shop = wh.channel_runtime(fake_redis, store, senders, **env)
    client = create_app(shop).test_client()
    assert client.get("/api/audit", headers=bearer("ana")).status_code == 401
    assert client.get("/api/audit", headers=bearer("ben")).status_code == 200


@pytest.mark.parametrize("env, message", [
    ({"API_TOKENS": "x=same-token-0123456789", "OPERATOR_TOKENS": "y=same-token-0123456789"}, "also an operator's"),
    ({"API_TOKENS": "a=tok-a-0123456789abcdef,a=tok-b-0123456789abcdef"}, "each name must appear once"),
    ({"API_TOKENS": "a=tok-a-0123456789abcdef,b=tok-a-0123456789abcdef"}, "two names share one token"),
    ({"API_TOKENS": "a:admin=tok-a-0123456789abcdef"}, "unknown restriction"),
    ({"OPERATOR_TOKENS": "a:code=tok-a-0123456789abcdef"}, "unknown restriction"),
    ({"API_TOKENS": "a=short"}, "must be 16 to 256 characters"),
    ({"API_TOKENS": "Bad Name=tok-a-0123456789abcdef"}, "name=token"),
])
def test_bad_named_tokens_stop_start_up_without_quoting_them(env, message):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert message in str(err.value) and "0123456789" not in str(err.value)


def test_production_may_use_named_tokens_only():
    s = load_settings({"REDIS_URL": "redis://r:6379/0", "MONGO_URI": "mongodb://m:27017", **ENV})
    assert s.API_TOKEN is None and [t.name for t in s.OPERATOR_TOKENS] == ["ana", "ben"]
    with pytest.raises(SettingsError, match="OPERATOR_TOKEN must be set"):
        load_settings({"REDIS_URL": "redis://r:6379/0", "MONGO_URI": "mongodb://m:27017",
                       "API_TOKENS": ENV["API_TOKENS"]})
