"""Greeting, verify and register: who is writing, proven before anything private is shown.

A phone is trusted only when the channel vouches for it (turn.contact) or after the one-time
code sent to it is typed back. The replies to a typed number are the same whether or not a
customer has that number, so typing someone else's number reveals nothing.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from statemachine import answers, prompts
from statemachine.details import NAME
from statemachine.effects import CheckCode, LinkIdentity, LockVerification, SaveCustomer, SendCode
from statemachine.model import CartLine, Conversation, Turn
from statemachine.shopping import add_requested_items, show_cart_or_menu

RESEND = {"resend", "send again", "new code", "resend code", "send a new code", "send code again"}
CHANGE_NUMBER = {"change number", "change my number", "different number", "wrong number", "another number"}


def mask_phone(phone: str) -> str:
    """'+14155552671' -> '+1 ••• ••• 2671': enough for the customer to recognise, not to copy."""
    return f"{phone[:2]} ••• ••• {phone[-4:]}"


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def greet(conv: Conversation, turn: Turn) -> None:
    """First message, or the first after an idle timeout."""
    if turn.nlu.items:  # "2 kg of apples" as a first line: keep it for after identification
        add_requested_items(conv, turn, quiet=True)
    if turn.nlu.intent == "question":  # "how much is delivery?" first: answered, then who are you
        conv.say(answers.answer_text(turn))
    phone = turn.contact or conv.phone
    if phone:
        identified(conv, turn, phone, greeting=True)
    else:
        conv.say(prompts.welcome(turn.limits.shop_name))
        conv.need_phone()


def identified(conv: Conversation, turn: Turn, phone: str, greeting: bool = False) -> None:
    """The phone is proven: continue as that customer, known or new.

    Only a proof that happens once (a shared contact, a code) links this identity to the phone. A
    channel that vouches on every message (SMS, WhatsApp, an attested call, an integrator's `phone`)
    needs no link, so an integrator's identity serving many phones is never any one customer's."""
    vouched_each_time = turn.contact == phone and turn.kind != "contact"
    if conv.phone != phone and not vouched_each_time:
        conv.do(LinkIdentity(turn.identity, phone))
        conv.cart = merged_cart(turn.deps.saved_cart(phone), conv.cart)  # what they left elsewhere, and here
    conv.phone = phone
    customer = turn.deps.find_customer(phone)
    if customer:
        conv.customer_id, conv.name, conv.address = customer["id"], customer.get("name"), customer.get("address")
        conv.say(prompts.welcome_back(conv.name))
        show_cart_or_menu(conv, turn)
    else:
        conv.customer_id = conv.name = conv.address = None
        if greeting:
            conv.say(prompts.welcome(turn.limits.shop_name))
        conv.new_customer()


def merged_cart(elsewhere: list[CartLine], here: list[CartLine]) -> list[CartLine]:
    """The cart this customer left on another channel, with this chat's lines on top (this chat's
    quantity wins for a product in both)."""
    mine = {line["sku"] for line in here}
    return [line.copy() for line in elsewhere if line["sku"] not in mine] + [line.copy() for line in here]


def contact_shared(conv: Conversation, turn: Turn) -> None:
    """A contact shared past verification: their own number links this chat (to a new number, it
    switches to that customer); someone else's is refused; the same number just says so."""
    if not turn.contact:
        return conv.say(prompts.CONTACT_NOT_OWN)
    if turn.contact == conv.phone:
        return conv.say(prompts.already_linked(mask_phone(conv.phone)))
    conv.restart()  # this chat is now that number's customer: start again as them, cart kept
    identified(conv, turn, turn.contact)


def verify(conv: Conversation, turn: Turn) -> None:
    if turn.contact:  # a shared contact, or a channel that knows the number
        identified(conv, turn, turn.contact)
    elif turn.kind == "contact":
        conv.say(prompts.CONTACT_NOT_OWN, request_phone=True)
    elif conv.step == "code":
        _check_code(conv, turn)
    else:
        _take_phone(conv, turn)


def ask_phone(conv: Conversation, turn: Turn | None) -> None:
    """Ask for a phone number: shared or typed, or, where codes can't be sent, how this shop learns it."""
    if turn is not None and not turn.limits.codes:
        return conv.say(prompts.verify_by_only(_ways(turn.limits.verify_ways)), request_phone=True)
    if turn is not None and turn.caller_id:  # a call whose caller ID can't vouch: offer a code to it
        return conv.say(prompts.offer_code(mask_phone(turn.caller_id)))
    conv.say(prompts.ASK_PHONE, request_phone=True)


def _ways(ways: Iterable[str]) -> str:
    said = [prompts.VERIFY_WAYS[w] for w in ways if w in prompts.VERIFY_WAYS] or [prompts.VERIFY_WAYS["app"]]
    return " or ".join(said)


def _take_phone(conv: Conversation, turn: Turn) -> None:
    raw = turn.nlu.phone
    phone = turn.deps.normalize_phone(raw) if raw else None
    if phone is None and turn.caller_id and turn.nlu.intent == "yes":  # "yes, text the number I'm calling from"
        phone = turn.caller_id
    if not turn.limits.codes:  # nothing can send a code here: say how this shop verifies instead
        return ask_phone(conv, turn)
    if phone is None:
        digits = raw or any(ch.isdigit() for ch in turn.text)
        conv.say(prompts.NOT_A_PHONE if digits else prompts.ASK_PHONE, request_phone=True)
        return
    _send_code(conv, turn, phone)


def _send_code(conv: Conversation, turn: Turn, phone: str) -> None:
    """Ask for a code to `phone`; the shop's policy decides (code_result says what came of it)."""
    lock = turn.deps.verification_lock(phone)
    if lock:
        conv.step, conv.pending = "phone", {}
        conv.say(prompts.locked(max(1, -(-lock // 60))))
        return
    code = turn.deps.new_code()
    local = turn.limits.codes == "local"  # else the provider makes, sends and checks its own code
    conv.pending = {**conv.pending, "offer": {
        "phone": phone, "hash": code_hash(conv.salt, code) if local else "",
        "expires": turn.now + turn.limits.otp_ttl_seconds, "attempts": 0}}
    conv.do(SendCode(phone, code))


def code_result(conv: Conversation, turn: Turn, result: dict[str, Any] | None) -> None:
    """SendCode's outcome: the code is on its way, or the shop's policy refused it (an earlier code
    for the same number stays good)."""
    offer = conv.pending.pop("offer", None)
    if offer is None:
        return
    if (result or {}).get("sent"):
        conv.step, conv.pending = "code", offer
        return conv.say(prompts.code_sent(mask_phone(offer["phone"]), turn.limits.otp_ttl_seconds // 60))
    same = conv.pending.get("phone") == offer["phone"]
    if not same:
        conv.step, conv.pending = "phone", {}
    conv.say(_refusal(turn, (result or {}).get("reason")), request_phone=not same)


def _refusal(turn: Turn, reason: str | None) -> str:
    if reason == "country":
        return prompts.codes_only_to(", ".join(turn.limits.code_countries))
    if reason == "number_type":
        return prompts.CODE_REFUSED_TYPE
    if reason in ("identity_cap", "number_cap"):
        return prompts.TOO_MANY_SENDS
    if reason == "rejected":
        return prompts.CODE_NOT_SENT
    return prompts.CODES_UNAVAILABLE


def _check_code(conv: Conversation, turn: Turn) -> None:
    pending, text = conv.pending, turn.text.strip().lower()
    phone = pending["phone"]
    if text in RESEND:
        return _send_code(conv, turn, phone)
    if text in CHANGE_NUMBER:
        conv.step, conv.pending = "phone", {}
        return conv.say(prompts.ASK_PHONE, request_phone=True)
    if turn.nlu.intent == "phone" and turn.nlu.phone:
        return _take_phone(conv, turn)
    if not turn.nlu.code:
        return conv.say(prompts.code_sent(mask_phone(phone), turn.limits.otp_ttl_seconds // 60))
    lock = turn.deps.verification_lock(phone)
    if lock:
        conv.step, conv.pending = "phone", {}
        return conv.say(prompts.locked(max(1, -(-lock // 60))))
    if turn.now > pending["expires"]:
        return conv.say(prompts.CODE_EXPIRED)
    if not pending.get("hash"):  # the provider holds the code: it says whether this is it
        return conv.do(CheckCode(phone, turn.nlu.code))
    if hmac.compare_digest(pending["hash"], code_hash(conv.salt, turn.nlu.code)):
        conv.pending = {}
        return identified(conv, turn, phone)
    _wrong_code(conv, turn, phone)


def code_checked(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
    """CheckCode's outcome, from the provider."""
    phone, outcome = conv.pending.get("phone"), result.get("result")
    if not phone:
        return
    if outcome == "approved":
        conv.pending = {}
        return identified(conv, turn, phone)
    if outcome == "wrong":
        return _wrong_code(conv, turn, phone)
    if outcome == "too_many":
        return _lock(conv, turn, phone)
    conv.say(prompts.CODE_EXPIRED if outcome == "expired" else prompts.CODE_CHECK_UNAVAILABLE)


def _wrong_code(conv: Conversation, turn: Turn, phone: str) -> None:
    conv.pending["attempts"] += 1
    left = turn.limits.otp_max_attempts - conv.pending["attempts"]
    if left <= 0:
        return _lock(conv, turn, phone)
    conv.say(prompts.wrong_code(left))


def _lock(conv: Conversation, turn: Turn, phone: str) -> None:
    conv.do(LockVerification(phone, turn.limits.otp_lock_seconds))
    conv.step, conv.pending = "phone", {}
    conv.say(prompts.locked(turn.limits.otp_lock_seconds // 60))


def register(conv: Conversation, turn: Turn) -> None:
    """Name, then address, as understood ("My name is Ana Lima" gives "Ana Lima")."""
    if conv.step == "name":
        name = turn.nlu.name
        if not (name and len(name) <= 80 and NAME.fullmatch(name)):
            return conv.say(prompts.BAD_NAME)
        conv.pending["name"] = name
        conv.step = "address"
        return conv.say(prompts.ASK_ADDRESS.format(name=name))
    if not turn.nlu.address:  # it must look like an address (ADDRESS_CHECK=lenient: any 6+ characters)
        return conv.say(prompts.BAD_ADDRESS)
    conv.do(SaveCustomer(conv.customer_phone(), conv.pending["name"], turn.nlu.address, turn.identity))


def customer_saved(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
    """SaveCustomer's outcome: the stored customer (an existing one if a twin registration won)."""
    conv.customer_id, conv.name, conv.address = result["id"], result["name"], result["address"]
    conv.say(prompts.REGISTERED.format(name=conv.name))
    show_cart_or_menu(conv, turn)
