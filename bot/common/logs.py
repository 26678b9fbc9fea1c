"""Logging: one structured line per event, carrying the message id from ingress to worker to send.

The id travels in a context variable (set by ingress for a request, by the worker for a message,
by delivery for a send) and a filter stamps it on every record. LOG_FORMAT=json prints one JSON
object per line for log shippers. Callers mask phones (bot.common.phones.mask) and never log secrets;
a test greps captured logs for both. As a last net, both formats mask any phone number left in
a line (tracebacks included), and gunicorn's access log masks its paths and query strings
(bot/web/access_log.py).
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time

from bot.common.phones import mask_numbers

message_id: contextvars.ContextVar[str] = contextvars.ContextVar("message_id", default="-")


@contextlib.contextmanager
def about(mid: str):
    """Every log line inside this block carries `mid`."""
    token = message_id.set(mid)
    try:
        yield
    finally:
        message_id.reset(token)


class _Stamp(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.message_id = message_id.get()
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
               "message_id": getattr(record, "message_id", "-"), "msg": record.getMessage()}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return mask_numbers(json.dumps(out, ensure_ascii=False))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s message_id=%(message_id)s %(message)s"


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Stamp())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("werkzeug", "rq.worker", "rq.scheduler", "httpx", "pymongo", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def stamp(handler: logging.Handler) -> logging.Handler:
    """Add the message-id filter to a handler configured elsewhere (e.g. pytest's capture)."""
    handler.addFilter(_Stamp())
    return handler
