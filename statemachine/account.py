"""Menu, order status, cancelling an order, and deleting my data: the customer's own account.

Every list here comes from `deps.recent_orders(conv.phone)`, the verified customer's own orders,
so one customer can never see or cancel another's.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from statemachine import answers, details, prompts
from statemachine.effects import CancelOrder, EraseCustomer
from statemachine.handoff import ask_for_person
from statemachine.model import Conversation, Turn
from statemachine.money import format_money
from statemachine.shopping import add_requested_items, show_cart

CANCELLABLE = ("awaiting_payment", "confirmed", "preparing")  # before dispatch; on its way is too late
STATUS_WORDS = {
    "awaiting_payment": "waiting for payment", "confirmed": "confirmed", "preparing": "being prepared",
    "out_for_delivery": "out for delivery", "delivered": "delivered", "cancelled": "cancelled",
    "expired": "not paid in time",
}


def _describe(order: dict[str, Any], currency: str) -> str:
    day = datetime.fromtimestamp(order["created_at"], tz=UTC).strftime("%b %d")
    return f"#{order['number']} ({day}, {format_money(order['total_cents'], currency)})"


def menu(conv: Conversation, turn: Turn) -> None:
    nlu = turn.nlu
    if details.handle(conv, turn):  # "change my name", "change my address"
        return
    intent = nlu.intent
    if intent == "choice":
        if nlu.choice is None or not 1 <= nlu.choice <= len(prompts.MENU_CHOICES):
            return conv.say(prompts.DIDNT_CATCH_MENU, buttons=prompts.MENU_OPTIONS)
        intent = prompts.MENU_CHOICES[nlu.choice - 1]
    if nlu.items or nlu.ambiguous or nlu.unknown and intent == "add_items":
        conv.shop(prompt=False)
        return add_requested_items(conv, turn)
    if intent == "order":
        conv.shop()
        return
    if intent in ("show_cart", "checkout"):
        conv.shop(prompt=not conv.cart)
        return show_cart(conv, turn) if conv.cart else None
    if intent == "status":
        return status(conv, turn)
    if intent in ("cancel_order", "cancel"):
        return start_cancel(conv, turn)
    if intent == "delete_data":
        conv.start_delete()
        return
    if intent == "help":
        return conv.say(prompts.help_text(conv.state))
    if intent == "human":
        return ask_for_person(conv, turn)
    if intent == "question":
        return answers.reply(conv, turn)
    if intent == "greeting":
        return conv.say(prompts.welcome_back(conv.name) + "\n" + prompts.menu(), buttons=prompts.MENU_OPTIONS)
    conv.say(prompts.DIDNT_CATCH_MENU, buttons=prompts.MENU_OPTIONS)


def status(conv: Conversation, turn: Turn) -> None:
    orders = turn.deps.recent_orders(conv.customer_phone())[:3]
    if not orders:
        return conv.say(prompts.NO_ORDERS)
    currency = turn.limits.currency
    conv.say(prompts.status_lines(
        [f"{_describe(o, currency)}: {STATUS_WORDS.get(o['status'], o['status'])}" for o in orders]))


def start_cancel(conv: Conversation, turn: Turn) -> None:
    orders = [o for o in turn.deps.recent_orders(conv.customer_phone()) if o["status"] in CANCELLABLE]
    if not orders:
        return conv.say(prompts.NOTHING_TO_CANCEL)
    conv.start_cancel()
    options = [{"id": o["id"], "number": o["number"], "desc": _describe(o, turn.limits.currency)} for o in orders[:5]]
    if len(options) == 1:
        conv.step, conv.pending = "confirm", options[0]
        return conv.say(prompts.cancel_confirm(options[0]["desc"]), buttons=("Yes", "No"))
    conv.step, conv.pending = "choose", {"options": options}
    conv.say(prompts.cancel_which([o["desc"] for o in options]), options=tuple(o["desc"] for o in options))


def cancel(conv: Conversation, turn: Turn) -> None:
    nlu = turn.nlu
    if conv.step == "choose":
        options = conv.pending["options"]
        if nlu.intent == "choice" and nlu.choice and 1 <= nlu.choice <= len(options):
            chosen = options[nlu.choice - 1]
            conv.step, conv.pending = "confirm", chosen
            return conv.say(prompts.cancel_confirm(chosen["desc"]), buttons=("Yes", "No"))
        if nlu.intent == "no":
            conv.say(prompts.KEEP_ORDER)
            conv.to_menu(prompt=False)
            return
        return conv.say(prompts.cancel_which([o["desc"] for o in options]))
    if nlu.intent == "yes":
        return conv.do(CancelOrder(conv.pending["id"], conv.customer_phone()))
    if nlu.intent == "no":
        conv.say(prompts.KEEP_ORDER)
        conv.to_menu(prompt=False)
        return
    conv.say(prompts.cancel_confirm(conv.pending["desc"]), buttons=("Yes", "No"))


def cancel_done(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
    """CancelOrder's outcome: cancelled (stock goes back), or too late (already dispatched)."""
    number = conv.pending.get("number", "")
    conv.say(prompts.cancelled(number) if result.get("ok") else prompts.cancel_too_late(number))
    conv.to_menu(prompt=False)


def delete(conv: Conversation, turn: Turn) -> None:
    nlu = turn.nlu
    if nlu.intent == "yes" or turn.text.strip().lower() in ("delete", "delete everything", "delete my data"):
        conv.do(EraseCustomer(conv.customer_phone(), (turn.identity,)))
        conv.say(prompts.DELETED)
        forget(conv)
        conv.erased()
        return
    if nlu.intent == "no":
        conv.say(prompts.NOT_DELETED)
        conv.to_menu(prompt=False)
        return
    conv.say(prompts.DELETE_CONFIRM, buttons=("Yes", "No"))


def forget(conv: Conversation) -> None:
    """Drop everything personal the conversation holds (after 'delete my data')."""
    conv.phone = conv.name = conv.address = conv.customer_id = None
    conv.cart.clear()
    conv.history.clear()
    conv.forgotten = True
