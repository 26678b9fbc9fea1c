"""Phone calls: TwiML from /webhooks/twilio/voice and below, through Flask's client with signed
Twilio requests, a worker thread answering through the real pipeline (fakeredis + mongomock)."""
from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

import pytest

from bot.common import redis_keys
from channels import voice
from tests.support import webhooks as wh
from tests.support.pipeline import Pipeline

CALLER = "+14155552671"
BASE = "/webhooks/twilio/voice"


@pytest.fixture
def rt(fake_redis, store, senders):
    return wh.channel_runtime(fake_redis, store, senders, VOICE_WAIT_SECONDS="2")


@pytest.fixture
def client(rt):
    from bot.app import create_app

    return create_app(rt).test_client()


@pytest.fixture
def worker(rt):
    """A worker thread draining mailboxes as they fill, like a real worker beside the web process."""
    stop, pipeline = threading.Event(), Pipeline(rt)

    def work():
        while not stop.is_set():
            if not pipeline.drain():
                time.sleep(0.01)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield pipeline
    stop.set()
    thread.join(5)


class Call:
    """One phone call as Twilio drives it: the incoming webhook, then each <Gather>'s action."""

    def __init__(self, client, caller=CALLER):
        self.client, self.caller, self.sid, self.next = client, caller, wh.sid("CA"), None

    def post(self, path_and_query: str, params: dict):
        path, _, query = path_and_query.partition("?")
        res = wh.twilio_post(self.client, path, params, query=dict(p.split("=") for p in query.split("&")) if query else None)
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.mimetype == "text/xml"
        return ET.fromstring(res.get_data())

    def start(self):
        return self._follow(self.post(BASE, wh.call_params(self.sid, self.caller)))

    def say(self, words: str):
        return self._follow(self.post(self.next, wh.speech(self.sid, self.caller, words)))

    def press(self, digits: str):
        return self._follow(self.post(self.next, wh.keyed(self.sid, self.caller, digits)))

    def silence(self):
        return self._follow(self.post(self.next, wh.silent(self.sid, self.caller)))

    def _follow(self, twiml):
        gather = twiml.find("Gather")
        if gather is not None:
            self.next = gather.get("action").removeprefix(wh.PUBLIC_BASE_URL)
        return twiml


def spoken(twiml) -> str:
    return " ".join(s.text or "" for s in twiml.iter("Say"))


@pytest.mark.parametrize("path", [BASE, f"{BASE}/turn?n=1", f"{BASE}/wait?n=0&h=1", f"{BASE}/status"])
@pytest.mark.parametrize("how", ["unsigned", "wrong token"])
def test_requests_twilio_did_not_sign_are_refused_and_nothing_is_queued(client, rt, path, how):
    p, _, q = path.partition("?")
    params = wh.speech(wh.sid("CA"), CALLER, "2 kg of apples")
    res = wh.twilio_post(client, p, params, query=dict(x.split("=") for x in q.split("&")) if q else None,
                         token=None if how == "unsigned" else "wrong-token")
    assert res.status_code == 403 and res.get_json()["error"]
    assert wh.nothing_queued(rt) and not rt.redis.keys(redis_keys.call("*"))


def test_a_call_is_greeted_with_a_gather_for_speech_and_keys(client, worker):
    call = Call(client)
    twiml = call.start()
    gather = twiml.find("Gather")
    assert gather.get("input") == "speech dtmf" and gather.get("method") == "POST"
    assert gather.get("action") == f"{wh.PUBLIC_BASE_URL}{BASE}/turn?n=1"
    assert gather.get("language") == "en-US" and gather.get("speechTimeout") == "auto"
    assert gather.get("actionOnEmptyResult") == "true"
    hints = gather.get("hints")
    assert "place an order" in hints and "Apples" in hints and len(hints) <= voice.HINTS_MAX
    assert spoken(twiml) == "Hi! Welcome to Orderline Grocery. I can take your order here. Nice to meet you! What's your name?"
    assert gather.find("Say").get("language") == "en-US"


def test_a_whole_order_by_voice_with_keys_for_the_menu(client, worker, rt):
    call = Call(client)
    call.start()
    assert "What's your delivery address?" in spoken(call.say("Ana Lima"))
    menu = spoken(call.say("12 Main Street, Springfield"))
    assert "Say or press 1 for Place an order, 2 for Order status" in menu and "\n" not in menu
    assert "What would you like?" in spoken(call.press("1"))
    cart = spoken(call.say("2 kilos of apples and a dozen eggs"))
    assert "2 kilograms of Apples" in cart and "dollars and" in cart and "×" not in cart and "$" not in cart
    assert "Shall I place it? Say yes or no." in spoken(call.say("I'm done"))
    placed = spoken(call.say("yes"))
    assert "Order number" in placed and "is placed" in placed
    [order] = rt.store.orders.find({"phone": CALLER})
    assert order["channel"] == "voice" and {line["sku"] for line in order["lines"]} == {"APPLE", "EGGS"}


def test_a_retried_turn_is_one_message_and_gets_the_same_answer(client, worker, rt):
    call = Call(client)
    call.start()
    turn = call.next
    first = spoken(call.say("Ana Lima"))
    again = spoken(call.post(turn, wh.speech(call.sid, CALLER, "Ana Lima")))
    assert first == again
    assert int(rt.redis.hget(redis_keys.STATS, "duplicates:voice")) == 1
    assert rt.store.messages.count({"channel": "voice", "direction": "in", "text": "Ana Lima"}) == 1


def test_silence_reprompts_twice_then_says_goodbye_and_hangs_up(client, worker, rt):
    call = Call(client)
    call.start()
    turn = call.next
    first = call.silence()
    assert spoken(first).startswith("Sorry, I didn't hear anything. Hi! Welcome to Orderline Grocery.")
    assert call.next == turn + "&s=1"
    second = call.silence()
    assert spoken(second).startswith("Sorry, I didn't hear anything.") and call.next == turn + "&s=2"
    last = call.silence()
    assert spoken(last) == voice.GOODBYE and last.find("Hangup") is not None and last.find("Gather") is None
    assert rt.store.messages.count({"channel": "voice", "direction": "in"}) == 1  # only the call's start


def test_speaking_after_a_silence_continues_the_same_turn(client, worker):
    call = Call(client)
    call.start()
    call.silence()
    assert "What's your delivery address?" in spoken(call.say("Ana Lima"))


def test_past_the_bound_it_holds_and_redirects_then_picks_the_reply_up(fake_redis, store, senders):
    from bot.app import create_app

    rt = wh.channel_runtime(fake_redis, store, senders, VOICE_WAIT_SECONDS="0.2")
    client = create_app(rt).test_client()
    call = Call(client)
    started = time.monotonic()
    twiml = call.start()  # no worker is running: the reply cannot come in time
    assert time.monotonic() - started < 5  # bounded by VOICE_WAIT_SECONDS, far below Twilio's 15 s
    assert spoken(twiml) == voice.HOLD and twiml.find("Gather") is None
    assert twiml.find("Redirect").text == f"{wh.PUBLIC_BASE_URL}{BASE}/wait?n=0&h=1"
    again = call.post(f"{BASE}/wait?n=0&h=1", wh.call_params(call.sid, CALLER, CallStatus="in-progress"))
    assert spoken(again) == voice.STILL_HOLDING and again.find("Redirect").text.endswith("/wait?n=0&h=2")
    Pipeline(rt).drain()  # the worker gets to it
    picked = call.post(f"{BASE}/wait?n=0&h=2", wh.call_params(call.sid, CALLER, CallStatus="in-progress"))
    assert "What's your name?" in spoken(picked) and picked.find("Gather").get("action").endswith("/turn?n=1")


def test_holding_too_long_apologises_and_hangs_up(fake_redis, store, senders):
    from bot.app import create_app

    rt = wh.channel_runtime(fake_redis, store, senders, VOICE_WAIT_SECONDS="0.05")
    call = Call(create_app(rt).test_client())
    twiml = call.post(f"{BASE}/wait?n=0&h={voice.MAX_HOLDS}", wh.call_params(call.sid, CALLER, CallStatus="in-progress"))
    assert spoken(twiml) == voice.TROUBLE and twiml.find("Hangup") is not None


def test_a_withheld_caller_id_proves_a_number_by_keyed_code(client, worker, rt):
    call = Call(client, caller="+266696687")  # how Twilio shows an anonymous caller
    assert "say your phone number, or key it in" in spoken(call.start())
    sent = spoken(call.press("4155550199"))
    assert "the number ending in 0 1 9 9" in sent
    code = worker.last_code("+14155550199", timeout=5)
    assert "What's your name?" in spoken(call.press(code))


def test_the_end_of_the_call_closes_its_state(client, worker, rt):
    call = Call(client)
    call.start()
    call.say("Ana Lima")
    assert int(rt.redis.hget(redis_keys.call(call.sid), "turns")) == 2
    res = wh.twilio_post(client, f"{BASE}/status", wh.call_ended(call.sid, CALLER, duration=42))
    assert res.status_code == 204
    assert not rt.redis.exists(redis_keys.call(call.sid))
    assert int(rt.redis.hget(redis_keys.STATS, "calls_ended:completed")) == 1
    assert int(rt.redis.hget(redis_keys.STATS, "call_seconds")) == 42


@pytest.mark.parametrize("path, field", [(f"{BASE}/turn", "n"), (f"{BASE}/wait", "n")])
def test_turn_urls_without_their_numbers_are_a_400(client, rt, path, field):
    res = wh.twilio_post(client, path, wh.speech(wh.sid("CA"), CALLER, "hi"))
    assert res.status_code == 400 and res.get_json()["error"].startswith(field)
    assert wh.nothing_queued(rt)


def test_a_bad_call_sid_is_a_400(client, rt):
    res = wh.twilio_post(client, BASE, wh.call_params("CA123", CALLER))
    assert res.status_code == 400 and "CallSid" in res.get_json()["error"]


@pytest.mark.parametrize("speech_result, digits, heard", [
    ("2 kilos of apples", "", ("2 kilos of apples", "speech")),
    ("", "1", ("1", "dtmf")), ("", "123456#", ("123456", "dtmf")), ("yes", "2", ("2", "dtmf")),
    ("one two three four five six", "", ("123456", "speech")), ("1 2 3 4 5 6.", "", ("123456", "speech")),
    ("four one five five five five oh one nine nine", "", ("4155550199", "speech")),
    ("one", "", ("one", "speech")), ("", "", ("", "speech"))])
def test_what_the_caller_said_or_keyed_becomes_the_text(speech_result, digits, heard):
    assert voice.heard(speech_result, digits) == heard


def test_a_call_continues_the_cart_left_on_whatsapp_from_the_greeting(client, worker, rt):
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "1", "2 kg of bananas"):
        worker.send(line, channel="whatsapp", address=CALLER, phone=CALLER)
    deadline = time.monotonic() + 10
    while rt.mailboxes.pending_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    greeting = spoken(Call(client).start())
    assert greeting.startswith("Welcome back, Ana Lima! Your cart: 2 kilograms of Bananas")
    assert "Anything else?" in greeting
    conv = worker.conversation(f"phone:{CALLER}")
    assert conv["state"] == "order" and conv["cart"] == [{"sku": "BANANA", "quantity": 2}]
