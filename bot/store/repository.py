"""What every repository shares: driver errors become Orderline's, so callers never import pymongo."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import AutoReconnect, ConnectionFailure, ExecutionTimeout, NetworkTimeout

from bot.common.errors import StoreUnavailable

_UNAVAILABLE = (ConnectionFailure, AutoReconnect, NetworkTimeout, ExecutionTimeout)

Doc = dict[str, Any]  # a document as pymongo reads and writes it
Db = Database[Doc]
Col = Collection[Doc]
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


def translate_errors(cls: type[T]) -> type[T]:
    """Wrap a repository's public methods: a lost or slow MongoDB raises StoreUnavailable (retried)."""
    for name, fn in list(vars(cls).items()):
        if callable(fn) and not name.startswith("_"):
            setattr(cls, name, _translated(fn))
    return cls


def _translated(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"MongoDB unavailable: {type(exc).__name__}") from exc
    return wrapper
