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


def twilio_messages(count: int, customers: int, base_url: str, auth_token: str, account_sid: str) -> list[str]:
    """`count` signed webhooks, round-robin over `customers`, each customer walking CONVERSATION."""
    validator = RequestValidator(auth_token)
    path = "/webhooks/twilio/messaging"
    url = base_url.rstrip("/") + path
    out = []
    for i in range(count):
        who = i % customers
        turn = i // customers
        whatsapp = who % 2 == 0
        sender = customer_phone(who)
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": account_sid, "NumMedia": "0",
            "From": f"whatsapp:{sender}" if whatsapp else sender,
            "To": f"whatsapp:{SHOP_NUMBER}" if whatsapp else SHOP_NUMBER,
            "Body": CONVERSATION[turn % len(CONVERSATION)],
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(url, params)}
        out.append(line(path, headers, urlencode(params)))
    return out


def write(path: str, lines: list[str]) -> str:
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
