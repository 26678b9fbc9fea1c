"""Moving through checkout's states: checkout.py, slots.py and payment.py move the conversation with
`go` (quietly: the caller says what to say) and speak with `say`."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from statemachine.model import Conversation

FLOW_STATES = ("order", "address", "substitute", "slot", "payment", "confirm")
# The trigger into each checkout state, fired quietly (machine.TRANSITIONS; entries.py says nothing).
MOVES: dict[str, Callable[[Conversation], bool]] = {
    "order": lambda conv: conv.shop(prompt=False),
    "address": lambda conv: conv.ask_address(prompt=False),
    "substitute": lambda conv: conv.ask_substitute(prompt=False),
    "slot": lambda conv: conv.ask_slot(prompt=False),
    "payment": lambda conv: conv.ask_payment(prompt=False),
    "confirm": lambda conv: conv.checkout(prompt=False),
}


def go(conv: Conversation, state: str) -> None:
    """Move to `state` (quietly: the caller says what to say), unless already there."""
    if conv.state != state:
        MOVES[state](conv)


def say(conv: Conversation, parts: list[str], *, buttons: Sequence[str] = (), options: Sequence[str] = ()) -> None:
    """The non-empty parts as one reply."""
    conv.say("\n".join(p for p in parts if p), buttons=buttons, options=options)
