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
from statemachine.inputs import Reading
from statemachine.model import Conversation, Turn

NAME = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")  # letters, with spaces . ' - between
EDIT_STEPS = ("name", "address")
FIELDS = {"change_name": "name", "change_address": "address"}


def editing(conv: Conversation) -> str | None:
    """The field ("name" or "address") whose new value is awaited, else None (registration has
    these steps too, handled there)."""
    return conv.step if conv.step in EDIT_STEPS and conv.state != "register" else None


def start(conv: Conversation, turn: Turn, field: str) -> None:
    value = _value(turn.nlu, field)
    if value:
        return _save(conv, turn, field, value)
    conv.step, conv.pending = field, {}
    conv.say(prompts.ASK_NEW_NAME if field == "name" else prompts.ASK_NEW_ADDRESS)


def answer(conv: Conversation, turn: Turn, field: str) -> None:
    """The new name or address (`field`), or 'no' / 'cancel' to keep the old one."""
    nlu = turn.nlu
    if nlu.intent in ("no", "cancel"):
        conv.step = None
        conv.say(prompts.DETAILS_KEPT)
        return _back(conv, turn)
    value = _value(nlu, field)
    if not value:
        return conv.say(prompts.BAD_NAME if field == "name" else prompts.BAD_ADDRESS)
    _save(conv, turn, field, value)


def handle(conv: Conversation, turn: Turn) -> bool:
    """Menu and order: an edit under way, or the customer asking for one. True if handled."""
    field = editing(conv)
    if field:
        answer(conv, turn, field)
        return True
    if turn.nlu.intent in FIELDS:
        start(conv, turn, FIELDS[turn.nlu.intent])
        return True
    return False


def at_confirm(conv: Conversation, turn: Turn) -> bool:
    """Before a yes or no to the order: a change of name or address, or a question, answered and
    followed by the order summary again. True if handled."""
    if handle(conv, turn):
        return True
    if turn.nlu.intent == "question":
        conv.say(answers.answer_text(turn))
        _back(conv, turn)
        return True
    return False


def _value(nlu: Reading, field: str) -> str | None:
    value = nlu.name if field == "name" else nlu.address
    if field == "name" and value and not NAME.fullmatch(value):
        return None
    return value


def _save(conv: Conversation, turn: Turn, field: str, value: str) -> None:
    conv.step = None
    setattr(conv, field, value)
    conv.do(UpdateCustomer(phone=conv.customer_phone(), field=field, value=value,
                           key=f"{turn.channel}:{turn.message_id}", channel=turn.channel))
    conv.say(prompts.name_changed(value) if field == "name" else prompts.address_changed(value))
    _back(conv, turn)


def _back(conv: Conversation, turn: Turn) -> None:
    """Where the customer was: the order summary (at confirm), the cart prompt, or the menu."""
    if conv.state == "confirm":
        lines, _ = priced_lines(conv.cart, turn.deps.catalog)
        conv.say(prompts.confirm(summary(lines, turn.limits.currency), conv.address), buttons=("Yes", "No"))
    elif conv.state == "order":
        conv.say(prompts.ANYTHING_ELSE if conv.cart else prompts.ORDER_PROMPT)
    else:
        conv.say(prompts.menu(), buttons=prompts.MENU_OPTIONS, options=prompts.MENU_OPTIONS)
