"""Greeting, verify and register: who is writing, proven before anything private is shown.

A phone is trusted only when the channel vouches for it (turn.contact) or after the one-time
code sent to it is typed back. The replies to a typed number are the same whether or not a
customer has that number, so typing someone else's number reveals nothing.
"""
from __future__ import annotations

import hashlib
import hmac

from . import answers, prompts
from .details import NAME
from .effects import LinkIdentity, LockVerification, SaveCustomer, SendCode
from .shopping import add_requested_items, show_cart_or_menu

RESEND = {"resend", "send again", "new code", "resend code", "send a new code", "send code again"}
CHANGE_NUMBER = {"change number", "change my number", "different number", "wrong number", "another number"}


def mask_phone(phone: str) -> str:
    """'+14155552671' -> '+1 ••• ••• 2671': enough for the customer to recognise, not to copy."""
    return f"{phone[:2]} ••• ••• {phone[-4:]}"


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def greet(conv, turn) -> None:
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


def identified(conv, turn, phone: str, greeting: bool = False) -> None:
    """The phone is proven: continue as that customer, known or new."""
    if conv.phone != phone and not turn.identity.endswith(":" + phone):  # WhatsApp, SMS, calls: it is the number
        conv.do(LinkIdentity(turn.identity, phone))
        conv.cart = merged_cart(turn.deps.saved_cart(phone), conv.cart)  # what they left elsewhere, and here
    conv.phone = phone
    customer = turn.deps.find_customer(phone)
    if customer:
        conv.customer_id, conv.name, conv.address = customer["id"], customer.get("name"), customer.get("address")
        conv.say(prompts.welcome_back(conv.name))
        show_cart_or_menu(conv, turn, trigger="known_customer")
    else:
        conv.customer_id = conv.name = conv.address = None
        if greeting:
            conv.say(prompts.welcome(turn.limits.shop_name))
        conv.new_customer()


def merged_cart(elsewhere: list[dict], here: list[dict]) -> list[dict]:
    """The cart this customer left on another channel, with this chat's lines on top (this chat's
    quantity wins for a product in both)."""
    mine = {line["sku"] for line in here}
    return [dict(line) for line in elsewhere if line["sku"] not in mine] + [dict(line) for line in here]


def contact_shared(conv, turn) -> None:
    """A contact shared past verification: their own number links this chat (to a new number, it
    switches to that customer); someone else's is refused; the same number just says so."""
    if not turn.contact:
        return conv.say(prompts.CONTACT_NOT_OWN)
    if turn.contact == conv.phone:
        return conv.say(prompts.already_linked(mask_phone(conv.phone)))
    conv.restart()  # this chat is now that number's customer: start again as them, cart kept
    identified(conv, turn, turn.contact)


def verify(conv, turn) -> None:
    if turn.contact:  # a shared contact, or a channel that knows the number
        identified(conv, turn, turn.contact)
    elif turn.kind == "contact":
        conv.say(prompts.CONTACT_NOT_OWN, request_phone=True)
    elif conv.step == "code":
        _check_code(conv, turn)
    else:
        _take_phone(conv, turn)


def _take_phone(conv, turn) -> None:
    raw = turn.nlu.phone
    phone = turn.deps.normalize_phone(raw) if raw else None
    if phone is None:
        digits = raw or any(ch.isdigit() for ch in turn.text)
        conv.say(prompts.NOT_A_PHONE if digits else prompts.ASK_PHONE, request_phone=True)
        return
    _send_code(conv, turn, phone, sends=0)


def _send_code(conv, turn, phone: str, sends: int) -> None:
    lock = turn.deps.verification_lock(phone)
    if lock:
        conv.step, conv.pending = "phone", {}
        conv.say(prompts.locked(max(1, -(-lock // 60))))
        return
    if sends >= turn.limits.otp_max_sends:
        conv.say(prompts.TOO_MANY_SENDS)
        return
    code = turn.deps.new_code()
    conv.step = "code"
    conv.pending = {
        "phone": phone, "hash": code_hash(conv.salt, code), "expires": turn.now + turn.limits.otp_ttl_seconds,
        "attempts": 0, "sends": sends + 1,
    }
    conv.do(SendCode(phone, code))
    conv.say(prompts.code_sent(mask_phone(phone), turn.limits.otp_ttl_seconds // 60))


def _check_code(conv, turn) -> None:
    pending, text = conv.pending, turn.text.strip().lower()
    phone = pending["phone"]
    if text in RESEND:
        return _send_code(conv, turn, phone, pending["sends"])
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
    if hmac.compare_digest(pending["hash"], code_hash(conv.salt, turn.nlu.code)):
        conv.pending = {}
        return identified(conv, turn, phone)
    pending["attempts"] += 1
    left = turn.limits.otp_max_attempts - pending["attempts"]
    if left <= 0:
        conv.do(LockVerification(phone, turn.limits.otp_lock_seconds))
        conv.step, conv.pending = "phone", {}
        return conv.say(prompts.locked(turn.limits.otp_lock_seconds // 60))
    conv.say(prompts.wrong_code(left))


def register(conv, turn) -> None:
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
    conv.do(SaveCustomer(conv.phone, conv.pending["name"], turn.nlu.address, turn.identity))


def customer_saved(conv, turn, result: dict) -> None:
    """SaveCustomer's outcome: the stored customer (an existing one if a twin registration won)."""
    conv.customer_id, conv.name, conv.address = result["id"], result["name"], result["address"]
    conv.say(prompts.REGISTERED.format(name=conv.name))
    show_cart_or_menu(conv, turn, trigger="known_customer")
