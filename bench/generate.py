"""Request files for bench/load.lua: one request per line (path, headers, body, tab-separated).

Orderline's requests are real Twilio webhooks (SMS and WhatsApp), signed the way Twilio signs
them, from many customers who each walk through an ordering conversation.
"""
from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

SHOP_NUMBER = "+15550001000"
# one customer's turn after turn: a returning customer ordering, checking out, starting again
CONVERSATION = ("1", "2 kg of apples", "a dozen eggs", "remove the apples", "1 l of whole milk", "cart", "done",
                "yes")


def customer_phone(i: int) -> str:
    return f"+1415{7000000 + i:07d}"


def line(path: str, headers: dict, body: str) -> str:
    assert "\t" not in body and "\n" not in body
    return "\t".join([path, *(f"{k}: {v}" for k, v in headers.items()), body])


def simple_json(path: str, count: int) -> list[str]:
    return [line(path, {"Content-Type": "application/json"}, json.dumps({"text": f"2 kg of apples #{i}"}))
            for i in range(count)]


def twilio_messages(count: int, customers: int, base_url: str, auth_token: str, account_sid: str,
                    conversation: tuple[str, ...] = CONVERSATION, first: int = 0, whatsapp_share: bool = True) -> list[str]:
    """`count` signed webhooks, round-robin over `customers` (numbered from `first`), each customer
    walking `conversation`; half of them on WhatsApp unless `whatsapp_share` is False (then all SMS)."""
    validator = RequestValidator(auth_token)
    path = "/webhooks/twilio/messaging"
    url = base_url.rstrip("/") + path
    out = []
    for i in range(count):
        who = first + i % customers
        turn = i // customers
        whatsapp = whatsapp_share and who % 2 == 0
        sender = customer_phone(who)
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": account_sid, "NumMedia": "0",
            "From": f"whatsapp:{sender}" if whatsapp else sender,
            "To": f"whatsapp:{SHOP_NUMBER}" if whatsapp else SHOP_NUMBER,
            "Body": conversation[turn % len(conversation)],
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(url, params)}
        out.append(line(path, headers, urlencode(params)))
    return out


def twilio_sms(senders_and_bodies: list[tuple[str, str]], base_url: str, auth_token: str, account_sid: str) -> list[str]:
    """One signed SMS webhook per (sender phone, text)."""
    validator = RequestValidator(auth_token)
    path = "/webhooks/twilio/messaging"
    url = base_url.rstrip("/") + path
    out = []
    for sender, body in senders_and_bodies:
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": account_sid, "NumMedia": "0", "From": sender,
                  "To": SHOP_NUMBER, "Body": body}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(url, params)}
        out.append(line(path, headers, urlencode(params)))
    return out


def write(path: str, lines: list[str]) -> str:
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
