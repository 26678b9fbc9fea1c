"""The conversation, pure: states, moves, and what to say. It imports no I/O library.

Drive it with `advance(conversation, turn)`; perform the returned effects; feed an effect's
outcome back with `resolve`; save `conversation.to_dict()`. See CONVERSATION.md for the diagram.
"""
from .dispatch import THROTTLED, advance, idle_reset, remember, resolve
from .effects import (CancelOrder, CheckCode, Count, Effect, EndHandoff, EraseCustomer, Later, LinkIdentity,
                      LockVerification, PlaceOrder, RecordFeedback, RequestHandoff, SaveCustomer, SendCode,
                      SetReminders, WaitForRestock)
from .handoff import CONTROL_KINDS, HANDBACK, OPERATOR_REPLY
from .machine import STATES, TRANSITIONS
from .outreach import BACK_IN_STOCK, CART_REMINDER, FEEDBACK_REQUEST
from .outreach import KINDS as OUTREACH_KINDS
from .model import SCHEMA_VERSION, Conversation, Deps, Limits, Outcome, Turn
from .replies import Reply, combine

__all__ = [
    "THROTTLED", "advance", "resolve", "idle_reset", "remember", "Conversation", "Turn", "Deps", "Limits", "Outcome", "Reply",
    "combine",
    "STATES", "TRANSITIONS", "SCHEMA_VERSION", "Effect", "SendCode", "LockVerification", "LinkIdentity",
    "SaveCustomer", "CheckCode", "PlaceOrder", "CancelOrder", "EraseCustomer", "Count", "RequestHandoff", "EndHandoff",
    "CONTROL_KINDS", "OPERATOR_REPLY", "HANDBACK", "WaitForRestock", "SetReminders", "RecordFeedback", "Later",
    "OUTREACH_KINDS", "BACK_IN_STOCK", "CART_REMINDER", "FEEDBACK_REQUEST",
]
