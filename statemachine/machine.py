"""The conversation's states and legal moves: one `transitions` Machine per thread, reused.

The Machine is model-less; each turn adds one Conversation, fires triggers, and removes it.
Building a Machine costs ~0.5 ms and forgetting `remove_model` leaks, so both live here only.
One Machine per thread: a worker runs several lanes at once, and `add_model`/`remove_model` find
models by equality (two fresh Conversations are equal), which is only safe one turn at a time.
Keep CONVERSATION.md's diagram in step with TRANSITIONS (a test compares them).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from transitions import Machine

from statemachine import entries
from statemachine.flow import FLOW_STATES
from statemachine.model import Conversation

STATES = ("greeting", "verify", "register", "menu", "order", "address", "substitute", "slot", "payment", "confirm",
          "cancel", "delete", "handoff")


def _others(state: str) -> list[str]:
    """The checkout states (flow.FLOW_STATES, which checkout.py moves among) but `state`."""
    return [s for s in FLOW_STATES if s != state]


# (trigger, sources or "*" for every state, destination). What a state says on entry is its callback in
# entries.py (entries.CALLBACKS); each trigger is a method of the model while attached (model.Conversation).
TRANSITIONS: tuple[tuple[str, list[str] | str, str], ...] = (
    ("need_phone", ["greeting"], "verify"),
    ("new_customer", ["greeting", "verify"], "register"),
    ("known_customer", ["greeting", "verify", "register"], "menu"),
    ("shop", ["greeting", "verify", "register", "menu", *_others("order")], "order"),
    ("ask_address", _others("address"), "address"),
    ("ask_substitute", _others("substitute"), "substitute"),
    ("ask_slot", _others("slot"), "slot"),
    ("ask_payment", _others("payment"), "payment"),
    ("checkout", _others("confirm"), "confirm"),
    ("placed", ["confirm"], "menu"),
    ("start_cancel", ["menu"], "cancel"),
    ("start_delete", ["menu"], "delete"),
    ("to_menu", ["menu", *FLOW_STATES, "cancel", "delete"], "menu"),
    ("erased", ["delete"], "greeting"),
    ("stop", ["verify", "register"], "greeting"),
    ("ask_person", ["greeting", "verify", "register", "menu", *FLOW_STATES, "cancel", "delete"], "handoff"),
    ("handback", ["handoff"], "menu"),
    ("restart", "*", "greeting"),
)


_local = threading.local()


def machine() -> Machine:
    """This thread's Machine; entry callbacks are plain functions (entries.py), not model methods."""
    m = getattr(_local, "machine", None)
    if m is None:
        m = _local.machine = _build()
    return m


def _build() -> Machine:
    return Machine(
        model=None,
        states=[{"name": s, "on_enter": [entries.CALLBACKS[s]] if s in entries.CALLBACKS else []} for s in STATES],
        transitions=[{"trigger": t, "source": s, "dest": d} for t, s, d in TRANSITIONS],
        initial="greeting",
        auto_transitions=False,
        send_event=True,
        before_state_change=[entries.clear_step],
    )


@contextmanager
def attached(conversation: Conversation) -> Iterator[Conversation]:
    """Add the conversation to the shared Machine for one turn, and always remove it after."""
    m = machine()
    before = set(vars(conversation))
    m.add_model(conversation, initial=conversation.state)
    try:
        yield conversation
    finally:
        m.remove_model(conversation)
        for name in set(vars(conversation)) - before - {"state"}:  # the trigger/is_ methods it bound
            delattr(conversation, name)
