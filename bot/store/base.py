"""What every repository shares: driver errors become Orderline's, so callers never import pymongo."""
from __future__ import annotations

import functools

from pymongo.errors import AutoReconnect, ConnectionFailure, ExecutionTimeout, NetworkTimeout

from bot.common.errors import StoreUnavailable

_UNAVAILABLE = (ConnectionFailure, AutoReconnect, NetworkTimeout, ExecutionTimeout)


def translate_errors(cls):
    """Wrap a repository's public methods: a lost or slow MongoDB raises StoreUnavailable (retried)."""
    for name, fn in list(vars(cls).items()):
        if callable(fn) and not name.startswith("_"):
            setattr(cls, name, _translated(fn))
    return cls


def _translated(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"MongoDB unavailable: {type(exc).__name__}") from exc
    return wrapper
