"""Bearer tokens for integrators and operators, compared in constant time."""
from __future__ import annotations

import functools
import hmac

from flask import abort, current_app, request


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


def require_token(*setting_names: str):
    """Decorator: 401 unless the request's Bearer token matches one of the named settings."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            settings = current_app.extensions["orderline"].settings
            if not token_matches(bearer_token(), *(getattr(settings, n) for n in setting_names)):
                abort(401, description="missing or wrong bearer token")
            return view(*args, **kwargs)
        return wrapped
    return decorate
