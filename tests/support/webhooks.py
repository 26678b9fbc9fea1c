"""Webhook requests shaped like the real ones: Telegram Updates and Twilio's signed form posts.

Field names and shapes follow what Telegram and Twilio send (Bot API Update / Message objects;
Twilio's messaging, voice and status callback parameters). Twilio requests are signed with the
SDK's own `RequestValidator.compute_signature` over the public URL, exactly as Twilio signs them.
"""
from __future__ import annotations

import itertools
import json
import time
import uuid
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

TG_TOKEN = "7000001:AAH-test-token_0123456789abcdef"
TG_SECRET = "tg-webhook-secret_0123456789"
TW_SID = "AC" + "a1" * 16
TW_TOKEN = "twilio-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://shop.example.com"
SMS_FROM = "+15005550006"
WA_FROM = "+14155238886"
# WhatsApp templates (Content SIDs) the test stacks configure, and their approved text at the fake Twilio
TEMPLATE_ORDER_UPDATE, TEMPLATE_BACK_IN_STOCK = "HX" + "a1" * 16, "HX" + "b2" * 16
TEMPLATE_CART_REMINDER, TEMPLATE_FEEDBACK = "HX" + "c3" * 16, "HX" + "d4" * 16
TEMPLATES = {TEMPLATE_ORDER_UPDATE: "Update: order #{{1}} {{2}}.",
             TEMPLATE_BACK_IN_STOCK: "Good news: {{1}} is back in stock. Reply to order it.",
             TEMPLATE_CART_REMINDER: "You left {{1}} in your cart. Reply 'done' to check out.",
             TEMPLATE_FEEDBACK: "How did we do with order #{{1}}? Reply with a number from 1 to 5."}

_update_ids = itertools.count(int(time.time()) % 100000 * 1000)


def channel_env(**extra) -> dict:
    """Settings (as environment) that switch on Telegram, Twilio messaging and voice."""
    env = dict(TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET, TWILIO_ACCOUNT_SID=TW_SID,
               TWILIO_AUTH_TOKEN=TW_TOKEN, TWILIO_SMS_FROM=SMS_FROM, TWILIO_WHATSAPP_FROM=f"whatsapp:{WA_FROM}",
               PUBLIC_BASE_URL=PUBLIC_BASE_URL, WHATSAPP_TEMPLATE_ORDER_UPDATE=TEMPLATE_ORDER_UPDATE,
               WHATSAPP_TEMPLATE_BACK_IN_STOCK=TEMPLATE_BACK_IN_STOCK,
               WHATSAPP_TEMPLATE_CART_REMINDER=TEMPLATE_CART_REMINDER, WHATSAPP_TEMPLATE_FEEDBACK=TEMPLATE_FEEDBACK)
    env.update(extra)
    return env


# -- Telegram ------------------------------------------------------------------------------------

def tg_user(user_id: int, first_name: str = "Ana") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": "Lima", "username": f"user{user_id}",
            "language_code": "en"}


def tg_private_chat(chat_id: int) -> dict:
    return {"id": chat_id, "first_name": "Ana", "last_name": "Lima", "username": f"user{chat_id}", "type": "private"}


def tg_message(chat_id: int, update_id: int | None = None, *, from_id: int | None = None, chat: dict | None = None,
               key: str = "message", **content) -> dict:
    """An Update carrying one Message; `content` is the message's payload (text=..., sticker=...)."""
    message = {"message_id": next(_update_ids) % 100000, "from": tg_user(from_id or chat_id),
               "chat": chat or tg_private_chat(chat_id), "date": int(time.time()), **content}
    if "text" in content and content["text"].startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(content["text"].split()[0]), "type": "bot_command"}]
    if key == "edited_message":
        message["edit_date"] = int(time.time())
    return {"update_id": update_id if update_id is not None else next(_update_ids), key: message}


def tg_text(chat_id: int, text: str, update_id: int | None = None, **kw) -> dict:
    return tg_message(chat_id, update_id, text=text, **kw)


def tg_contact(chat_id: int, phone: str, user_id: int | None, update_id: int | None = None) -> dict:
    """A shared contact; Telegram sends the user's own number without '+'."""
    contact = {"phone_number": phone.lstrip("+"), "first_name": "Ana", "last_name": "Lima"}
    if user_id is not None:
        contact["user_id"] = user_id
    return tg_message(chat_id, update_id, contact=contact)


def tg_file(kind: str) -> dict:
    file = {"file_id": "AgAD" + uuid.uuid4().hex, "file_unique_id": uuid.uuid4().hex[:16]}
    if kind == "sticker":
        return {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False,
                "emoji": "👍"}
    if kind == "photo":
        return [{**file, "width": 90, "height": 67, "file_size": 1254}, {**file, "width": 1280, "height": 960}]
    if kind == "voice":
        return {**file, "duration": 3, "mime_type": "audio/ogg", "file_size": 8000}
    raise ValueError(kind)


def tg_channel_post(text: str) -> dict:
    chat = {"id": -1001234567890, "title": "Shop news", "type": "channel"}
    return {"update_id": next(_update_ids), "channel_post": {"message_id": 7, "sender_chat": chat, "chat": chat,
                                                              "date": int(time.time()), "text": text}}


def tg_chat_member(chat_id: int, status: str) -> dict:
    bot = {"id": 7000001, "is_bot": True, "first_name": "Orderline", "username": "orderline_test_bot"}
    old = "member" if status == "kicked" else "kicked"
    return {"update_id": next(_update_ids), "my_chat_member": {
        "chat": tg_private_chat(chat_id), "from": tg_user(chat_id), "date": int(time.time()),
        "old_chat_member": {"user": bot, "status": old, **({"until_date": 0} if old == "kicked" else {})},
        "new_chat_member": {"user": bot, "status": status, **({"until_date": 0} if status == "kicked" else {})}}}


def tg_headers(secret: str | None = TG_SECRET) -> dict:
    return {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}


# -- Twilio --------------------------------------------------------------------------------------

def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def sign(url: str, params: dict, token: str = TW_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def twilio_post(client, path: str, params: dict, *, query: dict | None = None, token: str | None = TW_TOKEN,
                base: str = PUBLIC_BASE_URL, signature: str | None = None):
    """POST a form the way Twilio does: signed over the public URL (path + query) and the params."""
    full_path = path + (f"?{urlencode(query)}" if query else "")
    headers = {}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    elif token is not None:
        headers["X-Twilio-Signature"] = sign(base + full_path, params, token)
    # behind a proxy the app sees another scheme and host than the public URL Twilio signed
    return client.post(full_path, data=params, headers=headers, base_url="http://orderline-web:8000")


def sms(from_: str, body: str, message_sid: str | None = None, **extra) -> dict:
    message_sid = message_sid or sid("SM")
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": message_sid, "NumMedia": "0", "ToCity": "",
            "FromZip": "94105", "SmsSid": message_sid, "FromState": "CA", "SmsStatus": "received", "FromCity": "SAN FRANCISCO",
            "Body": body, "FromCountry": "US", "To": SMS_FROM, "ToZip": "", "NumSegments": "1", "ReferralNumMedia": "0",
            "MessageSid": message_sid, "AccountSid": TW_SID, "From": from_, "ApiVersion": "2010-04-01", **extra}


def whatsapp(from_: str, body: str, message_sid: str | None = None, **extra) -> dict:
    message_sid = message_sid or sid("SM")
    return {"SmsMessageSid": message_sid, "NumMedia": "0", "ProfileName": "Ana", "MessageType": "text",
            "SmsSid": message_sid, "WaId": from_.lstrip("+"), "SmsStatus": "received", "Body": body,
            "To": f"whatsapp:{WA_FROM}", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": message_sid,
            "AccountSid": TW_SID, "From": f"whatsapp:{from_}", "ApiVersion": "2010-04-01",
            "ChannelMetadata": json.dumps({"type": "whatsapp", "data": {"context": {
                "ProfileName": "Ana", "WaId": from_.lstrip("+")}}}, separators=(",", ":")),
            **extra}


def whatsapp_media(from_: str) -> dict:
    message_sid = sid("MM")
    return whatsapp(from_, "", message_sid, NumMedia="1", MessageType="image", MediaContentType0="image/jpeg",
                    MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{TW_SID}/Messages/{message_sid}/Media/{sid('ME')}")


def whatsapp_location(from_: str) -> dict:
    return whatsapp(from_, "", MessageType="location", Latitude="37.7879277", Longitude="-122.3937508",
                    Address="375 Beale St, San Francisco", Label="Home")


def message_status(message_sid: str, to: str, status: str, error_code: str | None = None) -> dict:
    params = {"SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status, "To": to, "MessageSid": message_sid,
              "AccountSid": TW_SID, "From": SMS_FROM, "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    return params


ATTESTED = "TN-Validation-Passed-A"  # SHAKEN/STIR full attestation: the carrier vouches for the caller ID


def call_params(call_sid: str, from_: str, verstat: str | None = ATTESTED, **extra) -> dict:
    """What Twilio posts for a call (the incoming call, and each <Gather> action adds SpeechResult/Digits).
    `verstat`: the StirVerstat Twilio adds for a call with SHAKEN/STIR information (None: no such field)."""
    extra = {**({"StirVerstat": verstat} if verstat else {}), **extra}
    return {"Called": "+15005550006", "ToState": "CA", "CallerCountry": "US", "Direction": "inbound",
            "CallerState": "CA", "ToZip": "", "CallSid": call_sid, "To": "+15005550006", "CallerZip": "94105",
            "ToCountry": "US", "CallToken": "%7B%22parentCallInfoToken%22%3A%22eyJ%22%7D", "CalledZip": "",
            "ApiVersion": "2010-04-01", "CalledCity": "", "CallStatus": "ringing", "From": from_, "AccountSid": TW_SID,
            "CalledCountry": "US", "CallerCity": "SAN FRANCISCO", "ToCity": "", "FromCountry": "US", "Caller": from_,
            "FromCity": "SAN FRANCISCO", "CalledState": "CA", "FromZip": "94105", "FromState": "CA", **extra}


def speech(call_sid: str, from_: str, said: str, verstat: str | None = ATTESTED) -> dict:
    return call_params(call_sid, from_, verstat, CallStatus="in-progress", SpeechResult=said, Confidence="0.92",
                       Language="en-US")


def keyed(call_sid: str, from_: str, digits: str, verstat: str | None = ATTESTED) -> dict:
    return call_params(call_sid, from_, verstat, CallStatus="in-progress", Digits=digits, FinishedOnKey="")


def silent(call_sid: str, from_: str, verstat: str | None = ATTESTED) -> dict:
    return call_params(call_sid, from_, verstat, CallStatus="in-progress")


def call_ended(call_sid: str, from_: str, status: str = "completed", duration: int = 42) -> dict:
    return call_params(call_sid, from_, CallStatus=status, CallDuration=str(duration), Duration="1",
                       CallbackSource="call-progress-events", SequenceNumber="0", Timestamp="Tue, 01 Apr 2025 12:00:00 +0000")


# -- an adapter-tier runtime with every channel switched on ---------------------------------------

def channel_runtime(fake_redis, store, senders, **extra):
    """The embedded runtime (fakeredis + mongomock, sample catalog) with Telegram and Twilio set."""
    from bot.config import load_settings
    from bot.runtime import build
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN, PLAIN_SHOP

    settings = load_settings(channel_env(**{"SHOP_FILE": PLAIN_SHOP, **extra}), API_TOKEN=API_TOKEN,
                             OPERATOR_TOKEN=OPERATOR_TOKEN)
    return build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)


def nothing_queued(rt) -> bool:
    """No message reached a mailbox, nothing waits to be sent, no drain job was kicked."""
    from bot.pipeline import keys as pkeys

    return (rt.mailboxes.pending_count() == 0 and not rt.redis.keys("ol:{i.*}:mbox")
            and rt.outbox.pending() == 0 and not rt.redis.exists(pkeys.KICK_MESSAGES))
