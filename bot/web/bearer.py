"""Bearer tokens for integrators and operators, compared in constant time.

A route names the role it admits by its setting ("API_TOKEN" for integrators, "OPERATOR_TOKEN"
for operators); every token of that role (the single one, named "default", and the named ones in
API_TOKENS / OPERATOR_TOKENS, see bot/common/tokens.py) is compared, each in constant time and all of
them every time. The token that matched is `principal()` for the rest of the request: the audit
log records its name, /api/chat applies its restriction.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import abort, g, request

from bot.common.tokens import NamedToken, of_role
from bot.config import Settings
from bot.web.current import runtime

P = ParamSpec("P")
R = TypeVar("R")

ROLES = {"API_TOKEN": "integrator", "OPERATOR_TOKEN": "operator"}


@dataclass(frozen=True)
class Principal:
    role: str  # integrator | operator
    token: NamedToken

    @property
    def name(self) -> str:
        return self.token.name

    @property
    def label(self) -> str:
        """'operator:ana': what the audit log records (never the token)."""
        return f"{self.role}:{self.token.name}"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_matches(given: str | None, *expected: str | None) -> bool:
    """True if `given` equals one of the expected tokens; every comparison runs (no early exit)."""
    ok = False
    for token in expected:
        if token and given:
            ok |= hmac.compare_digest(given.encode(), token.encode())
    return ok


def identify(settings: Settings, *setting_names: str) -> Principal | None:
    """The principal whose token this request carries, among the named roles; None if none matches."""
    given = bearer_token()
    digest = hashlib.sha256((given or "").encode("utf-8", "surrogatepass")).digest()
    found = None
    for setting in setting_names:
        for token in of_role(settings, setting):
            if hmac.compare_digest(digest, token.digest) and given and found is None:
                found = Principal(ROLES[setting], token)
    return found


def principal() -> Principal | None:
    return g.get("orderline_principal")


def require_token(*setting_names: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: 401 unless the request's Bearer token is one of the named roles' tokens."""
    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            settings = runtime().settings
            who = identify(settings, *setting_names)
            if who is None:
                abort(401, description="missing or wrong bearer token")
            g.orderline_principal = who
            return view(*args, **kwargs)
        return wrapped
    return decorate
