"""Failed messages: what an operator sees in the dead letters, and the retry that puts each back
where it came from (an inbound message into its customer's mailbox, a reply onto the outbound stream)."""
from __future__ import annotations

import json

import pytest

import workers.drain
from bot import deadletters, keys
from channels.base import CollectingSender
from channels.outbox import DevOutboxSender
from tests.support.operators import OP, RefusingOnce


@pytest.fixture
def senders(fake_redis):
    return {"sms": DevOutboxSender(fake_redis), "telegram": RefusingOnce("telegram", "55"),
            "whatsapp": CollectingSender("whatsapp")}


def test_a_refused_reply_is_retried_from_the_dead_letters(client, pipeline, senders, rt):
    pipeline.send("hi", channel="telegram", address="55")
    pipeline.drain()
    pipeline.deliver()
    assert senders["telegram"].sent == []
    listed = client.get("/api/deadletters", headers=OP).get_json()
    [item] = listed["items"]
    assert listed["waiting"] == 1 and item["kind"] == "outbound" and "blocked" in item["reason"]
    assert item["channel"] == "telegram" and "phone number" in item["text"]
    res = client.post(f"/api/deadletters/{item['id']}/retry", headers=OP)
    assert res.status_code == 202 and res.get_json()["retried"]["id"] == item["id"]
    assert client.post(f"/api/deadletters/{item['id']}/retry", headers=OP).status_code == 404  # once
    pipeline.deliver()
    [sent] = senders["telegram"].sent
    assert sent.address == "55" and "phone number" in sent.text and sent.attempt == 0
    assert client.get("/api/deadletters", headers=OP).get_json() == {"waiting": 0, "items": []}
    [entry] = client.get("/api/audit", headers=OP).get_json()["entries"]
    assert entry["action"] == "deadletter.retry" and entry["details"] == {"kind": "outbound", "channel": "telegram"}


def test_a_parked_customer_message_is_processed_after_its_retry(client, pipeline, rt, monkeypatch):
    monkeypatch.setattr(workers.drain, "MAX_BUG_ATTEMPTS", 1)  # park at the first failure
    real = pipeline.step.turn

    def broken(*a, **k):
        raise KeyError("a bug, since fixed")

    monkeypatch.setattr(pipeline.step, "turn", broken)
    message_id = pipeline.send("hi", user="ana", phone="+14155550501")
    pipeline.drain()
    assert rt.ingress.reply(message_id)["error"] == "processing_failed"  # the customer was told
    [item] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert item["kind"] == "inbound" and "KeyError" in item["reason"] and item["message_id"] == message_id
    assert item["text"] == "hi" and item["channel"] == "api"

    monkeypatch.setattr(pipeline.step, "turn", real)  # the fix is deployed; the operator retries
    rt.redis.delete(keys.reply(message_id))
    assert client.post(f"/api/deadletters/{item['id']}/retry", headers=OP).status_code == 202
    assert rt.redis.exists(keys.attempts("api", message_id)) == 0  # a full set of attempts again
    assert rt.mailboxes.pending_count() == 1
    pipeline.drain()
    reply = rt.ingress.reply(message_id)
    assert reply["state"] == "register" and "What's your name?" in reply["replies"][0]["text"]
    assert rt.store.messages.count({"message_id": message_id, "direction": "in"}) == 1
    s = client.get("/stats", headers=OP).get_json()
    assert s["dead_letters"] == {"waiting": 0, "inbound_total": 1, "outbound_total": 0}
    assert s["messages"]["in"] == {"api": 1}  # retried, not received twice


def test_entry_ids_are_stable_and_unknown_ones_are_404(client, rt):
    raw = json.dumps({"kind": "outbound", "reason": "x", "at": 1.0,
                      "payload": json.dumps({"channel": "sms", "address": "+14155550502", "text": "t", "reply_id": "r"})})
    rt.redis.rpush(keys.DEAD_LETTERS, raw)
    [item] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert item["id"] == deadletters.entry_id(raw) == deadletters.recent(rt.redis)[0]["id"]
    assert item["to"] == "********0502"  # a phone is masked for the operator's list
    assert client.post("/api/deadletters/0000/retry", headers=OP).status_code == 404
    assert rt.redis.llen(keys.DEAD_LETTERS) == 1
