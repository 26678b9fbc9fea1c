"""Failed messages: what an operator sees in the dead letters, and the retry that puts each back
where it came from (an inbound message at the head of its customer's mailbox, a reply at the head
of its recipient's outbox)."""
from __future__ import annotations

import json

import pytest

import workers.drain
from bot.pipeline import deadletters, keys
from channels.base import CollectingSender
from channels.dev_sms import DevOutboxSender
from tests.support.operators import OP, RefusingOnce


@pytest.fixture
def senders(fake_redis):
    return {"sms": DevOutboxSender(fake_redis), "telegram": RefusingOnce("telegram", "55"),
            "whatsapp": CollectingSender("whatsapp")}


def test_a_refused_reply_is_retried_from_the_dead_letters(client, pipeline, senders, rt):
    pipeline.send("hi", channel="telegram", address="55")
    pipeline.drain()  # the reply is sent right after the commit, and refused
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
    assert rt.redis.exists(keys.failures("api", message_id)) == 0  # a full set of attempts again
    assert rt.mailboxes.pending_count() == 1
    pipeline.drain()
    reply = rt.ingress.reply(message_id)
    assert reply["state"] == "register" and "What's your name?" in reply["replies"][0]["text"]
    assert rt.store.messages.count({"message_id": message_id, "direction": "in"}) == 1
    s = client.get("/stats", headers=OP).get_json()
    assert s["dead_letters"] == {"waiting": 0, "inbound_total": 1, "outbound_total": 0}
    assert s["messages"]["in"] == {"api": 1}  # retried, not received twice


def test_entry_ids_are_stable_and_unknown_ones_are_404(client, rt):
    message = deadletters.OutboundMessage(channel="sms", address="+14155550502", text="t", reply_id="sms:SM1:0")
    parked = deadletters.outbound(message, "x")
    rt.deadletters.add(parked, "dead_letters:outbound")
    rt.deadletters.add(deadletters.outbound(message, "the same reply, parked again"), "dead_letters:outbound")
    [item] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert item["id"] == parked.id == rt.deadletters.recent()[0]["id"]  # one reply, one entry
    assert item["to"] == "********0502"  # a phone is masked for the operator's list
    assert client.post("/api/deadletters/0000/retry", headers=OP).status_code == 404
    assert rt.deadletters.count() == 1


def test_a_one_time_code_is_never_kept_in_a_dead_letter_and_cannot_be_retried(client, pipeline, rt, senders):
    senders["sms"].send = lambda message, part_sent=None: (_ for _ in ()).throw(
        deadletters_error("21610: unsubscribed recipient"))
    pipeline.send("hi", user="tg-9")
    pipeline.drain()
    pipeline.send("+14155550503", user="tg-9")
    pipeline.drain()
    [item] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    entry = rt.deadletters.get(item["id"])
    assert "code is" not in json.dumps(entry) and item["text"] == deadletters.REDACTED
    res = client.post(f"/api/deadletters/{item['id']}/retry", headers=OP)
    assert res.status_code == 409 and "cannot be retried" in res.get_json()["error"]


def deadletters_error(text):
    from bot.common.errors import PermanentSendError

    return PermanentSendError(text)
