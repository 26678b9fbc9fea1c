"""One turn: global words first, then the current state's handler; effect outcomes come back here.

This is the whole public surface the worker drives: `advance` for a message, `resolve` for the
outcome of an effect that wants one, `idle_reset` for a conversation that went quiet, and
`remember` for the few lines of history kept with it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statemachine import (
    account,
    checkout,
    details,
    handoff,
    identify,
    outreach,
    payment,
    prompts,
    reorder,
    shopinfo,
    shopping,
)
from statemachine.effects import Count, Effect
from statemachine.flow import FLOW_STATES
from statemachine.machine import attached
from statemachine.model import HISTORY_TURNS, Conversation, Outcome, Turn
from statemachine.replies import Reply

HANDLERS: dict[str, Callable[[Conversation, Turn], object]] = {
    "greeting": identify.greet,
    "verify": identify.verify,
    "register": identify.register,
    "menu": account.menu,
    "order": shopping.order,
    "address": checkout.address,
    "substitute": checkout.substitute,
    "slot": checkout.choose_slot,
    "payment": checkout.choose_payment,
    "confirm": shopping.confirm,
    "cancel": account.cancel,
    "delete": account.delete,
    "handoff": handoff.waiting,
}
RESOLVERS: dict[str, Callable[[Conversation, Turn, dict[str, Any]], None]] = {
    "SendCode": identify.code_result,
    "CheckCode": identify.code_checked,
    "SaveCustomer": identify.customer_saved,
    "PlaceOrder": shopping.placement_done,
    "CancelOrder": account.cancel_done,
    "CreatePaymentLink": payment.link_ready,
}
PRE_IDENTITY = ("greeting", "verify", "register")
THROTTLED = ("throttled", "throttled_quiet")  # the first message over the rate limit, and the ones after


def advance(conv: Conversation, turn: Turn) -> Outcome:
    """Move the conversation one customer message forward; returns what to say and do."""
    conv.turn = turn
    if not conv.started_at:
        conv.started_at, conv.salt = turn.now, turn.deps.new_salt()
    if turn.kind in outreach.KINDS:
        return _outreach(conv, turn)
    with attached(conv):
        if turn.kind in THROTTLED:  # over the shop's per-customer rate: not acted on, said once
            if turn.kind == "throttled":
                conv.say(prompts.SLOW_DOWN)
        elif turn.kind in handoff.CONTROL_KINDS:
            handoff.control(conv, turn)
        elif conv.state == "handoff":  # a person has the conversation: only 'restart' gets the bot back
            if not handoff.waiting(conv, turn):
                _global_word(conv, turn)
        elif turn.kind not in ("text", "contact"):
            conv.say(prompts.NOT_TEXT)
        elif turn.kind == "contact" and conv.state not in ("greeting", "verify"):
            identify.contact_shared(conv, turn)
        else:
            _text(conv, turn)
    if not conv.cart:
        conv.reminded = False  # the next cart left behind may be reminded of once
    conv.updated_at = turn.now
    conv.turns += 1
    return _outcome(conv)


def _text(conv: Conversation, turn: Turn) -> None:
    told_out, conv.out_of_stock = conv.out_of_stock, []  # what the last turn said was out of stock
    if not outreach.words(conv, turn, told_out) and not _global_word(conv, turn) and not _shop_words(conv, turn):
        HANDLERS[conv.state](conv, turn)


def _outreach(conv: Conversation, turn: Turn) -> Outcome:
    """A message the shop sends first: said only if still true. It moves no state, and one that stays
    silent leaves the conversation exactly as it was (an idle conversation stays idle)."""
    outreach.control(conv, turn)
    conv.turns += 1
    if conv._outbox:
        conv.updated_at = turn.now
    return _outcome(conv)


def resolve(conv: Conversation, turn: Turn, effect: Effect, result: dict[str, Any]) -> Outcome:
    """Continue the turn with an effect's outcome (an order placed, a customer saved...)."""
    conv.turn = turn
    with attached(conv):
        RESOLVERS[effect.kind](conv, turn, result)
    return _outcome(conv)


def idle_reset(conv: Conversation, now: float, keep_cart: bool) -> list[Effect]:
    """A conversation idle past its timeout starts again at greeting; identity (and maybe cart) stay."""
    if conv.state == "handoff":  # still waiting for a person: going quiet is not abandoning
        conv.updated_at = now
        return []
    effects: list[Effect] = [Count("conversations_abandoned")] if conv.state in FLOW_STATES and conv.cart else []
    conv.state, conv.step, conv.pending = "greeting", None, {}
    if not keep_cart:
        conv.cart.clear()
    conv.updated_at = now
    return effects


def remember(conv: Conversation, text: str, replies: list[Reply]) -> None:
    """Keep the last few lines for context (a language model's prompt), never the whole history."""
    if conv.forgotten:
        return
    kind = conv.turn.kind if conv.turn else "text"
    if kind == handoff.OPERATOR_REPLY:
        conv.history.append(["operator", text[:500]])
    elif kind not in handoff.CONTROL_KINDS:
        conv.history.append(["customer", text[:500]])
    if replies and kind != handoff.OPERATOR_REPLY:
        conv.history.append(["bot", "\n".join(r.text for r in replies)[:500]])
    del conv.history[:-HISTORY_TURNS]


def _outcome(conv: Conversation) -> Outcome:
    replies, effects = conv.drain()
    return Outcome(replies, effects, conv.state)


def _global_word(conv: Conversation, turn: Turn) -> bool:
    """menu, help, cancel and restart work in every state, as a person expects. True if handled."""
    intent, state = turn.nlu.intent, conv.state
    if intent == "human" and state != "handoff":
        handoff.ask_for_person(conv, turn)
        return True
    if intent == "other_language" and state not in (*PRE_IDENTITY, "address"):  # names and addresses
        conv.say(prompts.ENGLISH_ONLY)
        return True
    if intent == "help":
        conv.say(prompts.help_text(state))
        return True
    if intent == "restart":
        conv.cart.clear()
        conv.say(prompts.RESTARTED)
        conv.restart()
        identify.greet(conv, turn)
        return True
    if intent == "menu":
        if state == "greeting":
            if conv.registered and turn.contact in (None, conv.phone):  # back after an idle timeout
                conv.say(prompts.welcome_back(conv.name))
                conv.known_customer()
                return True
            return False  # first contact: greeting identifies them first
        if not conv.registered:
            conv.say(prompts.SET_UP_FIRST)
            if state == "verify":
                return False  # the verify handler repeats its own question
            _reprompt_register(conv)
            return True
        conv.to_menu()
        return True
    if intent == "cancel" and details.editing(conv):  # "cancel" a change of address: the cart stays
        return False
    if intent == "cancel":
        if state in FLOW_STATES:
            conv.cart.clear()
            conv.chosen.clear()
            conv.say(prompts.CART_CLEARED)
            conv.do(Count("orders_abandoned"))
            conv.to_menu()
            return True
        if state in ("verify", "register"):
            conv.say(prompts.STOPPED)
            conv.stop()
            return True
        if state in ("cancel", "delete"):
            conv.say(prompts.KEEP_ORDER if state == "cancel" else prompts.NOT_DELETED)
            conv.to_menu(prompt=False)
            return True
    return False


def _shop_words(conv: Conversation, turn: Turn) -> bool:
    """'The same as last time' from the menu or the cart; a question about the shop's rules that
    the language model did not answer, answered from the rules themselves. True if handled."""
    if conv.state in ("menu", "order") and reorder.asked(turn.text):
        reorder.fill(conv, turn)
        return True
    if turn.nlu.intent == "question" and not turn.nlu.answer and conv.state in ("menu", *FLOW_STATES):
        topic = shopinfo.topic_of(turn.text)
        said = shopinfo.answer(turn.limits.shop, topic, turn.limits.currency) if topic else None
        if said:
            conv.say(said)
            return True
    return False


def _reprompt_register(conv: Conversation) -> None:
    conv.say(prompts.ASK_NAME if conv.step == "name" else prompts.ASK_ADDRESS.format(name=conv.pending.get("name", "")))
