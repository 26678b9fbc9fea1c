"""The conversation, pure: states, moves, and what to say. It imports no I/O library.

Drive it with `advance(conversation, turn)`; perform the returned effects; feed an effect's
outcome back with `resolve`; save `conversation.to_dict()`. See CONVERSATION.md for the diagram.
"""
from statemachine.dispatch import THROTTLED, advance, idle_reset, remember, resolve
from statemachine.effects import (
    CancelOrder,
    CheckCode,
    Count,
    Effect,
    EndHandoff,
    EraseCustomer,
    Later,
    LinkIdentity,
    LockVerification,
    PlaceOrder,
    RecordFeedback,
    RequestHandoff,
    SaveCustomer,
    SendCode,
    SetReminders,
    WaitForRestock,
)
from statemachine.handoff import CONTROL_KINDS, HANDBACK, OPERATOR_REPLY
from statemachine.machine import STATES, TRANSITIONS
from statemachine.model import SCHEMA_VERSION, Conversation, Deps, Limits, Outcome, Turn
from statemachine.outreach import BACK_IN_STOCK, CART_REMINDER, FEEDBACK_REQUEST
from statemachine.outreach import KINDS as OUTREACH_KINDS
from statemachine.replies import Reply, combine

__all__ = [
    "THROTTLED", "advance", "resolve", "idle_reset", "remember", "Conversation", "Turn", "Deps", "Limits", "Outcome",
    "Reply", "combine",
    "STATES", "TRANSITIONS", "SCHEMA_VERSION", "Effect", "SendCode", "LockVerification", "LinkIdentity",
    "SaveCustomer", "CheckCode", "PlaceOrder", "CancelOrder", "EraseCustomer", "Count", "RequestHandoff", "EndHandoff",
    "CONTROL_KINDS", "OPERATOR_REPLY", "HANDBACK", "WaitForRestock", "SetReminders", "RecordFeedback", "Later",
    "OUTREACH_KINDS", "BACK_IN_STOCK", "CART_REMINDER", "FEEDBACK_REQUEST",
]
