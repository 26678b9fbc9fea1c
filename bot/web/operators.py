"""What every operator route shares: who is acting (for the audit log), body parsing, phones in paths."""
from __future__ import annotations

import hashlib
import re

from flask import abort, request
from pydantic import BaseModel

from ..app import runtime
from ..auth import bearer_token
from ..phones import mask
from .json_body import json_body

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def who() -> str:
    """The acting operator's label: which token was used (a fingerprint of it, never the token)."""
    token = bearer_token() or ""
    return "operator:" + hashlib.sha256(token.encode()).hexdigest()[:8]


def audit(action: str, target: str, **details) -> None:
    runtime().store.audit.record(who(), action, target, details)


def body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated by `model`, or a 400/415 naming what is wrong."""
    return json_body(model)


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


__all__ = ["who", "audit", "body", "phone_arg", "int_arg", "mask"]
