"""What the bot says on entering a state. Callbacks only write to the turn's outbox (no effects):
transitions does not roll back after on_enter, so nothing here may touch the world.
"""
from __future__ import annotations

from statemachine import prompts
from statemachine.checkout import say_confirmation
from statemachine.identify import ask_phone


def clear_step(event) -> None:
    """Leaving a state drops its step data (a pending code, question or choice)."""
    conv = event.model
    conv.step = None
    conv.pending = {}


def enter_verify(event) -> None:
    conv = event.model
    conv.step = "phone"
    if event.kwargs.get("prompt", True):
        ask_phone(conv, conv.turn)


def enter_register(event) -> None:
    conv = event.model
    conv.step = "name"
    conv.say(prompts.ASK_NAME)


def enter_menu(event) -> None:
    conv = event.model
    if event.kwargs.get("prompt", True):
        conv.say(prompts.menu(), buttons=prompts.MENU_OPTIONS, options=prompts.MENU_OPTIONS)


def enter_order(event) -> None:
    if event.kwargs.get("prompt", True):
        event.model.say(prompts.ORDER_PROMPT)


def enter_confirm(event) -> None:
    if event.kwargs.get("prompt", True):
        say_confirmation(event.model, event.model.turn)


def enter_delete(event) -> None:
    conv = event.model
    conv.step = "confirm"
    conv.say(prompts.DELETE_CONFIRM, buttons=("Yes", "No"))


def enter_handoff(event) -> None:
    event.model.say(prompts.HANDOFF_STARTED)


CALLBACKS = {
    "verify": enter_verify,
    "register": enter_register,
    "menu": enter_menu,
    "order": enter_order,
    "confirm": enter_confirm,
    "delete": enter_delete,
    "handoff": enter_handoff,
}
