"""The accessor for the Runtime of the app handling the current request (as flaskr keeps `get_db`
in db.py): blueprints import this small module, never the factory that registers them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from bot.runtime import Runtime

EXTENSION = "orderline"  # create_app puts the runtime in app.extensions under this name


def runtime() -> Runtime:
    """The Runtime of the app handling the current request."""
    return current_app.extensions[EXTENSION]
