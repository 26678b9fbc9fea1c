"""gunicorn's access log without phone numbers.

An access line quotes the request's path and query string, and operators' and integrators' URLs
may hold a number (`/api/customers/%2B1.../export`, `/api/orders?customer=%2B1...`,
`/api/chat/<id>?user_id=+1...`). This logger class masks every number in every atom it formats
(path, query, request line, referer, headers) and never logs the Authorization header.
`python -m bot serve` runs gunicorn with `--logger-class bot.web.access_log.MaskedAccessLogger`.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from bot.common.phones import mask_numbers

SECRET_ATOMS = ("{authorization}i", "{http_authorization}e", "{x-twilio-signature}i",
                "{x-telegram-bot-api-secret-token}i", "{stripe-signature}i")


class MaskedAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = mask_numbers(value)
        for name in SECRET_ATOMS:
            if name in atoms:
                atoms[name] = "-"
        return atoms
