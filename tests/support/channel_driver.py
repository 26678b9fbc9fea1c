"""Driving the live stack as Telegram, Twilio (WhatsApp, SMS) and a phone call would.

Each turn posts the channel's real webhook (secret header or Twilio signature) to the app, lets
the real worker processes handle it, and reads the reply where the customer would see it: the
fake Telegram Bot API or fake Twilio REST API (what the real SDKs sent), or the call's TwiML.
Returns the same reply shape as `/api/chat` ({"replies", "state"}) plus what the channel
rendered ("buttons", "asks_contact"), so scenario checks work on every channel.
"""
from __future__ import annotations

import json
import random
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

from bot.pipeline import keys as pkeys
from tests.support import webhooks as wh

VOICE_PATH = "/webhooks/twilio/voice"


def identity(who, channel: str) -> str:
    if channel == "telegram":
        return f"telegram:{who.chat_id}"
    if channel == "voice":
        return f"voice:{who.phone}"
    return f"{channel}:{who.phone}"


def turn(live, who, channel: str, step: dict, fill) -> dict:
    """Play one scenario step on `channel` as `who`; returns the reply as the customer got it."""
    if channel == "telegram" and who.chat_id is None:
        who.chat_id = random.randrange(10 ** 8, 10 ** 9)
    who.identities.add(identity(who, channel))
    if channel == "telegram":
        return _telegram(live, who, step, fill)
    if channel in ("whatsapp", "sms"):
        return _twilio_message(live, who, channel, fill(step["say"]))
    if channel == "voice":
        return _voice(live, who, step, fill)
    raise ValueError(f"unknown channel {channel!r}")


def conversation(live, who) -> dict | None:
    """The customer's conversation: by verified phone, else by any identity they used."""
    for key in [f"phone:{who.phone}"] + [f"id:{i}" for i in sorted(who.identities)]:
        raw = live.rt.redis.get(pkeys.conversation(key).state)
        if raw:
            return json.loads(raw)
    return None


def _state(live, who) -> str | None:
    conv = conversation(live, who)
    return conv["state"] if conv else None


def _settled(live, ident: str, got_reply, timeout: float = 20) -> None:
    """Until the message is processed (mailbox empty), its replies sent (outbound drained) and seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not live.rt.redis.llen(pkeys.identity(ident).mailbox) and not live.rt.outbox.pending() and got_reply():
            return
        time.sleep(0.02)
    raise AssertionError(f"no reply for {ident} within {timeout}s (dead letters: "
                         f"{live.rt.deadletters.recent(3)})")


# -- Telegram -------------------------------------------------------------------------------------

def _telegram(live, who, step: dict, fill) -> dict:
    chat = who.chat_id
    if "share_contact" in step:
        owner = chat if step["share_contact"] == "own" else chat + 1
        update = wh.tg_contact(chat, who.phone, user_id=owner)
    elif "send" in step:
        caption = {"caption": fill(step["caption"])} if "caption" in step else {}
        update = wh.tg_message(chat, **{step["send"]: wh.tg_file(step["send"])}, **caption)
    else:
        update = wh.tg_text(chat, fill(step["say"]))
    before = len(live.telegram.sent(chat))
    res = live.client.post("/webhooks/telegram", json=update, headers=wh.tg_headers())
    assert res.status_code == 200, res.get_json()
    _settled(live, f"telegram:{chat}", lambda: len(live.telegram.sent(chat)) > before)
    new = live.telegram.sent(chat)[before:]
    markup = new[-1].get("reply_markup", {})
    rows = markup.get("keyboard", [])
    return {"replies": [m["text"] for m in new], "state": _state(live, who),
            "buttons": [b["text"] for row in rows for b in row if not b.get("request_contact")],
            "asks_contact": any(b.get("request_contact") for row in rows for b in row)}


# -- WhatsApp and SMS through Twilio --------------------------------------------------------------

def _twilio_message(live, who, channel: str, text: str) -> dict:
    to = f"whatsapp:{who.phone}" if channel == "whatsapp" else who.phone
    params = wh.whatsapp(who.phone, text) if channel == "whatsapp" else wh.sms(who.phone, text)
    before = len(live.twilio.messages(to))
    if channel == "whatsapp":
        live.twilio.wrote(to)  # WhatsApp's 24-hour window opens, as far as the fake Twilio knows
    res = wh.twilio_post(live.client, "/webhooks/twilio/messaging", params)
    assert res.status_code == 200, res.get_data(as_text=True)
    _settled(live, f"{channel}:{who.phone}", lambda: len(live.twilio.messages(to)) > before)
    new = live.twilio.messages(to)[before:]
    for sent in new:
        assert sent["From"] == (f"whatsapp:{wh.WA_FROM}" if channel == "whatsapp" else wh.SMS_FROM)
    return {"replies": [m["Body"] for m in new], "state": _state(live, who)}


# -- phone calls ----------------------------------------------------------------------------------

def _voice(live, who, step: dict, fill) -> dict:
    if step.get("hangup"):
        res = wh.twilio_post(live.client, f"{VOICE_PATH}/status", wh.call_ended(who.call_sid, who.phone))
        assert res.status_code == 204
        who.call_sid, who.call_next = None, None
        return {"replies": [], "state": _state(live, who)}
    greeting = None
    if who.call_sid is None:
        who.call_sid = wh.sid("CA")
        greeting = _post_call(live, who, VOICE_PATH, wh.call_params(who.call_sid, who.phone))
    if step.get("call") == "start":
        assert greeting is not None, "a call is already going on"
        return greeting
    if "press" in step:
        params = wh.keyed(who.call_sid, who.phone, str(step["press"]))
    elif step.get("silence"):
        params = wh.silent(who.call_sid, who.phone)
    else:
        params = wh.speech(who.call_sid, who.phone, fill(step["say"]))
    return _post_call(live, who, who.call_next, params)


def _post_call(live, who, url: str, params: dict) -> dict:
    """POST one Twilio voice request and follow holding <Redirect>s until the call speaks or ends."""
    holds = 0
    while True:
        parts = urlsplit(url)
        res = wh.twilio_post(live.client, parts.path, params, query=dict(parse_qsl(parts.query)) or None)
        assert res.status_code == 200 and res.mimetype == "text/xml", res.get_data(as_text=True)
        twiml = ET.fromstring(res.get_data())
        redirect, gather = twiml.find("Redirect"), twiml.find("Gather")
        if redirect is None:
            break
        holds += 1
        assert holds < 20, "held for too long"
        url = redirect.text.removeprefix(wh.PUBLIC_BASE_URL)
        params = wh.call_params(who.call_sid, who.phone, CallStatus="in-progress")
    said = [s.text for s in twiml.iter("Say")]
    who.call_next = gather.get("action").removeprefix(wh.PUBLIC_BASE_URL) if gather is not None else None
    if gather is None:
        who.call_sid = None  # the call hung up
    return {"replies": said, "state": _state(live, who), "holds": holds, "hung_up": twiml.find("Hangup") is not None}
