"""Human handoff through the pipeline: a customer asks for a person, the bot goes quiet, an operator's
reply reaches the customer's own channel in order, and the hand-back returns them to the bot."""
from __future__ import annotations

from urllib.parse import quote

from bot.customers.handoff import handoff_id
from statemachine import prompts
from tests.conftest import API_TOKEN
from tests.support.operators import OP

WA = "+14155550301"


def whatsapp(pipeline, text, who=WA):
    pipeline.send(text, channel="whatsapp", address=who, phone=who)
    pipeline.drain()
    pipeline.deliver()


def registered(pipeline, who=WA, name="Cleo"):
    for line in ("hi", name, "3 Main Street, Springfield"):
        whatsapp(pipeline, line, who)


def path(key: str, action: str = "") -> str:
    """The operator's URL for a waiting conversation: its opaque id (given, or made from its key)."""
    hid = handoff_id(key) if ":" in key else key
    return f"/api/handoffs/{quote(hid)}" + (f"/{action}" if action else "")


def test_handoff_round_trip_on_whatsapp(client, pipeline, senders, rt):
    registered(pipeline)
    whatsapp(pipeline, "6")  # the menu's "Talk to a person"
    wa = senders["whatsapp"]
    assert wa.texts(WA)[-1] == prompts.HANDOFF_STARTED
    [waiting] = client.get("/api/handoffs", headers=OP).get_json()["waiting"]
    assert waiting["key"] == handoff_id(f"phone:{WA}") and waiting["name"] == "Cleo" and waiting["channel"] == "whatsapp"
    assert WA not in str(waiting) and waiting["phone"].endswith("0301")  # masked: the list names no number
    assert waiting["messages"][-2]["text"] == "6"

    told = len(wa.sent)
    whatsapp(pipeline, "the bananas were brown")
    assert len(wa.sent) == told  # the bot stays quiet while a person has the conversation
    res = client.post(path(waiting["key"], "reply"), json={"text": "Hi Cleo, Sam here. I'll refund the bananas."},
                      headers=OP)
    assert res.status_code == 202
    pipeline.drain()
    pipeline.deliver()
    assert wa.texts(WA)[-1] == "Hi Cleo, Sam here. I'll refund the bananas."
    row = rt.store.db.messages.find_one({"text": "Hi Cleo, Sam here. I'll refund the bananas."})
    assert row["direction"] == "out" and row["by"].startswith("operator:") and row["phone"] == WA
    assert rt.store.messages.count({"phone": WA, "direction": "in", "text": "the bananas were brown"}) == 1

    assert client.post(path(waiting["key"], "handback"), headers=OP).status_code == 202
    pipeline.drain()
    pipeline.deliver()
    assert wa.texts(WA)[-1].startswith(prompts.HANDED_BACK) and "1. Place an order" in wa.texts(WA)[-1]
    assert client.get("/api/handoffs", headers=OP).get_json()["waiting"] == []
    whatsapp(pipeline, "2 kg of apples")
    assert "Added 2 kg" in wa.texts(WA)[-1]  # the bot answers again

    s = client.get("/stats", headers=OP).get_json()
    assert s["handoffs_waiting"] == 0 and s["messages"]["operator_replies"] == 1 and s["messages"]["handbacks"] == 1
    assert "operator" not in s["messages"]["in"]  # the shop's control messages are not customer messages
    assert s["messages"]["in"]["whatsapp"] == s["messages"]["turns"]["whatsapp"] == 6
    actions = [e["action"] for e in client.get("/api/audit", headers=OP).get_json()["entries"]]
    assert actions == ["handoff.handback", "handoff.reply"]


def test_waiting_conversations_are_listed_oldest_first(client, pipeline):
    for who, name in (("+14155550311", "First"), ("+14155550312", "Second"), ("+14155550313", "Third")):
        registered(pipeline, who, name)
    for who in ("+14155550312", "+14155550311", "+14155550313"):
        whatsapp(pipeline, "talk to a human", who)
    whatsapp(pipeline, "anyone?", "+14155550312")  # writing again keeps the place in the queue
    names = [w["name"] for w in client.get("/api/handoffs", headers=OP).get_json()["waiting"]]
    assert names == ["Second", "First", "Third"]


def test_operator_replies_to_a_synchronous_customer_wait_in_their_notices(client, pipeline):
    for line in ("hi", "Dee", "4 Main Street, Springfield"):
        pipeline.say(line, user="dee", phone="+14155550321")
    reply = pipeline.say("customer service please", user="dee", phone="+14155550321")
    assert reply["state"] == "handoff" and reply["replies"][0]["text"] == prompts.HANDOFF_STARTED
    assert pipeline.say("hello?", user="dee", phone="+14155550321")["replies"] == []  # quiet
    client.post(path("phone:+14155550321", "reply"), json={"text": "Hello Dee!"}, headers=OP)
    client.post(path("phone:+14155550321", "handback"), headers=OP)
    pipeline.drain()
    api = {"Authorization": f"Bearer {API_TOKEN}"}
    texts = [n["text"] for n in client.get("/api/notices?user_id=dee", headers=api).get_json()["notices"]]
    assert texts[0] == "Hello Dee!" and texts[1].startswith(prompts.HANDED_BACK)
    assert "Added" in pipeline.say("a dozen eggs", user="dee", phone="+14155550321")["replies"][0]["text"]


def test_an_unidentified_customer_can_be_helped_and_handed_back(client, pipeline, senders):
    pipeline.send("hi", channel="telegram", address="777")
    pipeline.send("I need to speak to someone", channel="telegram", address="777")
    pipeline.drain()
    [waiting] = client.get("/api/handoffs", headers=OP).get_json()["waiting"]
    assert waiting["key"] == handoff_id("id:telegram:777") and waiting["phone"] is None
    client.post(path(waiting["key"], "reply"), json={"text": "Hi, how can I help?"}, headers=OP)
    client.post(path(waiting["key"], "handback"), headers=OP)
    pipeline.drain()
    pipeline.deliver()
    assert senders["telegram"].texts("777")[-2:] == ["Hi, how can I help?", prompts.HANDED_BACK]


def test_bad_operator_requests(client, pipeline):
    assert client.post(path("phone:+14155550399", "reply"), json={"text": "hi"}, headers=OP).status_code == 404
    assert client.post(path("phone:+14155550399", "handback"), headers=OP).status_code == 404
    registered(pipeline)
    whatsapp(pipeline, "talk to a person")
    key = f"phone:{WA}"
    for bad in ({}, {"text": ""}, {"text": "   "}, {"text": "x" * 1601}, {"text": "hi", "html": True}):
        assert client.post(path(key, "reply"), json=bad, headers=OP).status_code == 400, bad
    assert client.post(path(key, "reply"), data="hi", headers=OP).status_code == 415
    assert pipeline.rt.mailboxes.pending_count() == 0  # nothing was queued by a refused request
