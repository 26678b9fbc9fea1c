"""Moving through checkout's states: checkout.py, slots.py and payment.py move the conversation with
`go` (quietly: the caller says what to say) and speak with `say`."""
from __future__ import annotations

FLOW_STATES = ("order", "address", "substitute", "slot", "payment", "confirm")
TRIGGERS = {"order": "shop", "address": "ask_address", "substitute": "ask_substitute", "slot": "ask_slot",
            "payment": "ask_payment", "confirm": "checkout"}


def go(conv, state: str) -> None:
    """Move to `state` (quietly: the caller says what to say), unless already there."""
    if conv.state != state:
        getattr(conv, TRIGGERS[state])(prompt=False)


def say(conv, parts: list[str], **hints) -> None:
    conv.say("\n".join(p for p in parts if p), **hints)
