"""Talking to a person: the conversation waits for an operator, and the bot stays quiet meanwhile.

An operator's words and the hand-back arrive as control messages through the customer's own
mailbox (kinds in CONTROL_KINDS), so they take their turn in order with the customer's messages.
"""
from __future__ import annotations

from statemachine import prompts
from statemachine.effects import EndHandoff, RequestHandoff
from statemachine.model import Conversation, Turn
from statemachine.outreach import KINDS as OUTREACH_KINDS

OPERATOR_REPLY, HANDBACK = "operator_reply", "handback"
CONTROL_KINDS = (OPERATOR_REPLY, HANDBACK, *OUTREACH_KINDS)  # from the shop's side, never from a customer


def ask_for_person(conv: Conversation, turn: Turn) -> None:
    """'Talk to a person': join the operators' waiting list; the entry prompt says a person will reply."""
    conv.do(RequestHandoff(identity=turn.identity, phone=conv.phone, name=conv.name, text=turn.text[:300]))
    conv.ask_person()


def waiting(conv: Conversation, turn: Turn) -> bool:
    """A customer's message while a person has the conversation: recorded, not answered.

    Returns True if handled; False lets 'restart' (the one way out without an operator) through.
    """
    if turn.nlu.intent == "restart":
        conv.do(EndHandoff(identity=turn.identity, phone=conv.phone))
        return False
    return True


def control(conv: Conversation, turn: Turn) -> None:
    """An operator's reply is said as it is; the hand-back returns the customer to the bot."""
    if turn.kind == OPERATOR_REPLY:
        conv.say(turn.text)
        return
    conv.do(EndHandoff(identity=turn.identity, phone=conv.phone))
    if conv.state != "handoff":
        return  # handed back twice, or the customer already started over: nothing to say
    conv.say(prompts.HANDED_BACK)
    if conv.registered:
        conv.handback()
    else:
        conv.restart()
