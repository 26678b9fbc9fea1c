"""Changing my name or delivery address: from the menu, while shopping, or while confirming an order.

"change my address" asks for the new one (or takes it from the same line: "change my address to
5 Oak Road, Springfield"); the answer is checked like a registration answer, saved on the
customer (effect UpdateCustomer, which also records that the change happened) and the customer
goes back to where they were: the menu, the cart, or the order summary with the new address.
"""
from __future__ import annotations

import re

from statemachine import answers, prompts
from statemachine.cart import priced_lines, summary
from statemachine.effects import UpdateCustomer

NAME = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")  # letters, with spaces . ' - between
EDIT_STEPS = ("name", "address")
FIELDS = {"change_name": "name", "change_address": "address"}


def editing(conv) -> bool:
    """Waiting for a new name or address (registration has these steps too, handled there)."""
    return conv.step in EDIT_STEPS and conv.state != "register"


def start(conv, turn, field: str) -> None:
    value = _value(turn.nlu, field)
    if value:
        return _save(conv, turn, field, value)
    conv.step, conv.pending = field, {}
    conv.say(prompts.ASK_NEW_NAME if field == "name" else prompts.ASK_NEW_ADDRESS)


def answer(conv, turn) -> None:
    """The new name or address, or 'no' / 'cancel' to keep the old one."""
    field, nlu = conv.step, turn.nlu
    if nlu.intent in ("no", "cancel"):
        conv.step = None
        conv.say(prompts.DETAILS_KEPT)
        return _back(conv, turn)
    value = _value(nlu, field)
    if not value:
        return conv.say(prompts.BAD_NAME if field == "name" else prompts.BAD_ADDRESS)
    _save(conv, turn, field, value)


def handle(conv, turn) -> bool:
    """Menu and order: an edit under way, or the customer asking for one. True if handled."""
    if editing(conv):
        answer(conv, turn)
        return True
    if turn.nlu.intent in FIELDS:
        start(conv, turn, FIELDS[turn.nlu.intent])
        return True
    return False


def at_confirm(conv, turn) -> bool:
    """Before a yes or no to the order: a change of name or address, or a question, answered and
    followed by the order summary again. True if handled."""
    if handle(conv, turn):
        return True
    if turn.nlu.intent == "question":
        conv.say(answers.answer_text(turn))
        _back(conv, turn)
        return True
    return False


def _value(nlu, field: str) -> str | None:
    value = nlu.name if field == "name" else nlu.address
    if field == "name" and value and not NAME.fullmatch(value):
        return None
    return value


def _save(conv, turn, field: str, value: str) -> None:
    conv.step = None
    setattr(conv, field, value)
    conv.do(UpdateCustomer(phone=conv.phone, field=field, value=value, key=f"{turn.channel}:{turn.message_id}",
                           channel=turn.channel))
    conv.say(prompts.name_changed(value) if field == "name" else prompts.address_changed(value))
    _back(conv, turn)


def _back(conv, turn) -> None:
    """Where the customer was: the order summary (at confirm), the cart prompt, or the menu."""
    if conv.state == "confirm":
        lines, _ = priced_lines(conv.cart, turn.deps.catalog)
        conv.say(prompts.confirm(summary(lines, turn.limits.currency), conv.address), buttons=("Yes", "No"))
    elif conv.state == "order":
        conv.say(prompts.ANYTHING_ELSE if conv.cart else prompts.ORDER_PROMPT)
    else:
        conv.say(prompts.menu(), buttons=prompts.MENU_OPTIONS, options=prompts.MENU_OPTIONS)
