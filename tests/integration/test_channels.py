"""Tier 3 for the channels: real redis-server, two real worker processes sending through the real
Telegram and Twilio SDKs to fake APIs, webhooks posted as Telegram and Twilio post them."""
from __future__ import annotations

import json
import random
import time
import xml.etree.ElementTree as ET

import pytest

from bot.common import redis_keys
from bot.pipeline import keys as pkeys
from tests.support import scenarios
from tests.support import webhooks as wh

pytestmark = pytest.mark.integration

VOICE = "/webhooks/twilio/voice"


def test_every_channel_has_its_scenarios():
    names = {s["_file"] for s in scenarios.load_all()}
    assert {"telegram_full_order.yaml", "whatsapp_full_order.yaml", "sms_full_order.yaml", "voice_full_order.yaml",
            "whatsapp_then_call.yaml"} <= names


def wait_idle(live, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not live.rt.mailboxes.pending_count() and not live.rt.outbox.pending():
            return
        time.sleep(0.05)
    raise AssertionError("the workers did not finish")


def test_forged_webhooks_on_every_channel_queue_and_send_nothing(live):
    chat, phone, caller = random.randrange(10 ** 8, 10 ** 9), "+14155557001", "+14155557002"
    stats_before = live.rt.redis.hgetall(redis_keys.STATS)
    forged = [
        live.client.post("/webhooks/telegram", json=wh.tg_text(chat, "hi"), headers=wh.tg_headers(None)),
        live.client.post("/webhooks/telegram", json=wh.tg_text(chat, "hi"), headers=wh.tg_headers("not-the-secret")),
        wh.twilio_post(live.client, "/webhooks/twilio/messaging", wh.whatsapp(phone, "hi"), token=None),
        wh.twilio_post(live.client, "/webhooks/twilio/messaging", wh.sms(phone, "hi"), token="forged-token"),
        wh.twilio_post(live.client, VOICE, wh.call_params(wh.sid("CA"), caller), token="forged-token"),
        wh.twilio_post(live.client, f"{VOICE}/turn", wh.speech(wh.sid("CA"), caller, "yes"), query={"n": 1}, token=None),
    ]
    assert [r.status_code for r in forged] == [403] * 6
    # a genuine message after them: once it is answered, anything queued before it would have been too
    genuine = "+14155557003"
    wh.twilio_post(live.client, "/webhooks/twilio/messaging", wh.whatsapp(genuine, "hi"))
    live.twilio.wait_for(lambda _: live.twilio.messages(f"whatsapp:{genuine}"), timeout=20)
    wait_idle(live)
    assert live.telegram.sent(chat) == []
    assert not live.twilio.messages(phone) and not live.twilio.messages(f"whatsapp:{phone}")
    assert not live.twilio.messages(caller)
    for identity in (f"telegram:{chat}", f"whatsapp:{phone}", f"sms:{phone}", f"voice:{caller}"):
        assert not live.rt.redis.exists(pkeys.identity(identity).mailbox) and not live.rt.redis.exists(pkeys.identity(identity).link)
    stats = live.rt.redis.hgetall(redis_keys.STATS)
    for counter in (b"messages_in:telegram", b"messages_in:sms", b"messages_in:voice"):
        assert stats.get(counter) == stats_before.get(counter)


def test_a_voice_turn_answers_within_the_bound_while_the_workers_are_busy(live):
    bound = live.rt.settings.VOICE_WAIT_SECONDS
    live.set_step_delay(bound + 0.5)  # every turn takes longer than a call may wait (a slow model)
    try:
        others = [f"+1415556{n:04d}" for n in random.sample(range(10000), 14)]
        for number in others:  # other customers' messages keep the workers' lanes busy meanwhile
            assert wh.twilio_post(live.client, "/webhooks/twilio/messaging", wh.whatsapp(number, "hi")).status_code == 200
        call, caller = wh.sid("CA"), "+14155557010"
        started = time.monotonic()
        res = wh.twilio_post(live.client, VOICE, wh.call_params(call, caller))
        elapsed = time.monotonic() - started
        # the request is bounded by VOICE_WAIT_SECONDS (plus the request's own overhead), far below Twilio's 15 s
        assert res.status_code == 200 and elapsed < bound + 4, elapsed
        twiml = ET.fromstring(res.get_data())
        assert [s.text for s in twiml.iter("Say")] == ["One moment, please."]
        redirect = twiml.find("Redirect").text
        assert redirect == f"{wh.PUBLIC_BASE_URL}{VOICE}/wait?n=0&h=1"
        # Twilio follows the redirect until the reply is there; each wait is bounded too
        url, holds = redirect.removeprefix(wh.PUBLIC_BASE_URL), 0
        while True:
            path, _, query = url.partition("?")
            started = time.monotonic()
            res = wh.twilio_post(live.client, path, wh.call_params(call, caller, CallStatus="in-progress"),
                                 query=dict(q.split("=") for q in query.split("&")))
            assert time.monotonic() - started < bound + 4
            twiml = ET.fromstring(res.get_data())
            if twiml.find("Redirect") is None:
                break
            holds += 1
            assert holds < 10
            url = twiml.find("Redirect").text.removeprefix(wh.PUBLIC_BASE_URL)
        assert "What's your name?" in " ".join(s.text for s in twiml.iter("Say"))
        assert twiml.find("Gather").get("action").endswith("/turn?n=1")
    finally:
        live.set_step_delay(0)
    wait_idle(live)
    for number in others:  # and the other customers were all answered, once each
        assert len(live.twilio.messages(f"whatsapp:{number}")) == 1


def test_a_telegram_send_refused_for_good_lands_in_the_dead_letters_and_is_not_retried(live):
    chat = random.randrange(10 ** 8, 10 ** 9)
    live.telegram.block(chat)
    live.client.post("/webhooks/telegram", json=wh.tg_text(chat, "hi"), headers=wh.tg_headers())
    deadline = time.monotonic() + 20

    def mine():
        return [e for e in (live.rt.deadletters.get(d["id"]) for d in live.rt.deadletters.recent(1000))
                if e and e["address"] == str(chat)]

    while not mine() and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = mine()
    assert entry["kind"] == "outbound" and "blocked" in entry["reason"]
    assert json.loads(entry["payload"])["address"] == str(chat)
    assert live.rt.redis.sismember(redis_keys.TELEGRAM_BLOCKED, str(chat))
    wait_idle(live)
    attempts = [r for r in live.telegram.calls("sendMessage") if r.form.get("chat_id") == str(chat)]
    assert len(attempts) == 1  # refused once, recorded, never retried


def test_a_flood_limited_telegram_reply_is_retried_after_the_wait_telegram_asked_for(live):
    chat = random.randrange(10 ** 8, 10 ** 9)
    live.telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    live.client.post("/webhooks/telegram", json=wh.tg_text(chat, "hi"), headers=wh.tg_headers())
    live.telegram.wait_for(lambda _: live.telegram.sent(chat), timeout=30)
    [sent] = live.telegram.sent(chat)
    assert sent["text"].startswith("Hi! Welcome to Orderline Grocery.")
