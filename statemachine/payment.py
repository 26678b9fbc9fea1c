"""The `payment` state, and the Stripe link for an order paid online.

The customer chooses among the shop's methods (on delivery by default; online only where a link
can be followed: not on a phone call). An order paid online is placed as `awaiting_payment`
(its stock and slot held), then `CreatePaymentLink` asks the worker for a Stripe Checkout link
for the stored order's total; it becomes paid only by Stripe's signed webhook (bot/payments/).
"""
from __future__ import annotations

from typing import Any

from statemachine import prompts
from statemachine.flow import go, say
from statemachine.model import Conversation, Turn
from statemachine.money import format_money
from statemachine.rules import ON_DELIVERY, ONLINE, local, methods_for, when

WORDS = {ONLINE: ("online", "link", "stripe", "now", "internet", "web"),
         ON_DELIVERY: ("delivery", "cash", "door", "later", "arrives", "driver")}


def check(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    methods = methods_for(turn.limits.shop, turn.channel)
    if conv.chosen.get("payment") in methods:
        return False
    if len(methods) == 1:
        conv.chosen["payment"] = methods[0]
        return False
    go(conv, "payment")
    conv.pending = {"methods": list(methods)}
    labels = tuple(prompts.PAYMENT_LABELS[m] for m in methods)
    say(conv, notes + [prompts.choose_payment(list(labels))], buttons=labels, options=labels)
    return True


def choose(conv: Conversation, turn: Turn) -> bool:
    """True once the customer chose (checkout goes on); otherwise it has asked again."""
    methods, nlu = conv.pending.get("methods", [ON_DELIVERY]), turn.nlu
    text = " ".join(turn.text.lower().split())
    pick = next((m for m in methods if prompts.PAYMENT_LABELS[m].lower() == text), None)
    if pick is None and nlu.intent == "choice" and nlu.choice and 1 <= nlu.choice <= len(methods):
        pick = methods[nlu.choice - 1]
    if pick is None:
        named = [m for m in methods if any(w in text.split() for w in WORDS[m])]
        pick = named[0] if len(named) == 1 else None
    if pick is None:
        labels = tuple(prompts.PAYMENT_LABELS[m] for m in methods)
        conv.say(nlu.answer if nlu.intent == "question" and nlu.answer else prompts.PAYMENT_WHICH,
                 buttons=labels, options=labels)
        return False
    conv.chosen["payment"] = pick
    return True


def link_ready(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
    """CreatePaymentLink's outcome: the link to pay, or (payment service down) pay on delivery."""
    currency = turn.limits.currency
    total = format_money(result["total_cents"], currency)
    if result.get("url"):
        rules = turn.limits.shop
        until = when(local(rules, result["expires_at"]), local(rules, turn.now))
        conv.say(prompts.awaiting_payment(result["number"], total, result["url"], until))
    else:
        conv.say(prompts.payment_fallback(result["number"], total))
