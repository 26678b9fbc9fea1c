"""What every operator route shares: who is acting (for the audit log), phones in paths, integer arguments."""
from __future__ import annotations

import re

from flask import abort, request

from bot.web.bearer import principal
from bot.web.current import runtime

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def who() -> str:
    """The acting operator's label: the name of the token that was used ('operator:ana'; the single
    OPERATOR_TOKEN is 'operator:default'), never the token."""
    acting = principal()
    return acting.label if acting is not None else "operator:unknown"


def audit(action: str, target: str, **details: object) -> None:
    runtime().store.audit.record(who(), action, target, details)


def phone_arg(phone: str) -> str:
    if phone.startswith(" "):  # an unencoded '+' in a query string arrives as a space
        phone = "+" + phone[1:]
    if not E164.match(phone):
        abort(400, description="phone must be E.164, like +14155552671")
    return phone


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"{name} must be an integer")
    return max(lo, min(hi, value))
