"""What the bot says on entering a state. Callbacks only write to the turn's outbox (no effects):
transitions does not roll back after on_enter, so nothing here may touch the world.

The Machine calls each with its `EventData` (send_event=True): `event.model` is the attached
Conversation, `event.kwargs` the trigger's keywords (`prompt=False`: enter without a word).
"""
from __future__ import annotations

from collections.abc import Callable

from transitions import EventData

from statemachine import prompts
from statemachine.checkout import say_confirmation
from statemachine.identify import ask_phone
from statemachine.model import Conversation, Turn


def _conversation(event: EventData) -> Conversation:
    """The model the trigger fired on (transitions types it as any object: the Machine serves any model)."""
    if not isinstance(event.model, Conversation):
        raise TypeError(f"the conversation's Machine fired on {type(event.model).__name__}, not a Conversation")
    return event.model


def _prompt(event: EventData) -> bool:
    return bool(event.kwargs.get("prompt", True))


def _turn(conv: Conversation) -> Turn:
    """The turn being played: advance and resolve set it before any trigger fires."""
    if conv.turn is None:
        raise RuntimeError("a trigger fired outside a turn (advance or resolve sets conv.turn first)")
    return conv.turn


def clear_step(event: EventData) -> None:
    """Leaving a state drops its step data (a pending code, question or choice)."""
    conv = _conversation(event)
    conv.step = None
    conv.pending = {}


def enter_verify(event: EventData) -> None:
    conv = _conversation(event)
    conv.step = "phone"
    if _prompt(event):
        ask_phone(conv, conv.turn)


def enter_register(event: EventData) -> None:
    conv = _conversation(event)
    conv.step = "name"
    conv.say(prompts.ASK_NAME)


def enter_menu(event: EventData) -> None:
    if _prompt(event):
        _conversation(event).say(prompts.menu(), buttons=prompts.MENU_OPTIONS, options=prompts.MENU_OPTIONS)


def enter_order(event: EventData) -> None:
    if _prompt(event):
        _conversation(event).say(prompts.ORDER_PROMPT)


def enter_confirm(event: EventData) -> None:
    if _prompt(event):
        conv = _conversation(event)
        say_confirmation(conv, _turn(conv))


def enter_delete(event: EventData) -> None:
    conv = _conversation(event)
    conv.step = "confirm"
    conv.say(prompts.DELETE_CONFIRM, buttons=("Yes", "No"))


def enter_handoff(event: EventData) -> None:
    _conversation(event).say(prompts.HANDOFF_STARTED)


CALLBACKS: dict[str, Callable[[EventData], None]] = {
    "verify": enter_verify,
    "register": enter_register,
    "menu": enter_menu,
    "order": enter_order,
    "confirm": enter_confirm,
    "delete": enter_delete,
    "handoff": enter_handoff,
}
