"""The Flask app factory: one blueprint per area, JSON errors everywhere, the runtime in extensions.

Blueprints reach the runtime through `bot.web.current.runtime()`, never through this module, so
the factory imports the blueprints and nothing imports the factory but start-up (wsgi, cli).
"""
from __future__ import annotations

import logging

from flask import Flask, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.common.errors import TransientError
from bot.operations import figures
from bot.runtime import Runtime
from bot.web import (
    current,
    dashboard,
    devchat,
    health,
    metrics,
    operator_api,
    operator_inbox,
    products,
    stats,
    stripe_webhook,
)
from channels import api, telegram, twilio_messaging, voice

log = logging.getLogger("orderline.web")


def create_app(runtime: Runtime) -> Flask:
    """The web app of one process, serving `runtime` (built once by start-up or a test)."""
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.extensions[current.EXTENSION] = runtime
    for blueprint in _blueprints(runtime):
        app.register_blueprint(blueprint)
    figures.mark_started(runtime.redis)

    @app.before_request
    def refuse_oversized_bodies():
        """413 before authentication or parsing: an oversized body costs nothing to refuse."""
        if request.content_length is not None and request.content_length > settings.MAX_BODY_BYTES:
            abort(413, description=f"body larger than {settings.MAX_BODY_BYTES} bytes")

    @app.errorhandler(HTTPException)
    def json_error(exc: HTTPException):
        response = jsonify(error=exc.description or exc.name)
        response.status_code = exc.code or 500
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(TransientError)
    def unavailable(exc: TransientError):
        log.warning("temporarily unavailable: %s", exc)  # the sender (Telegram, Twilio) will retry
        return jsonify(error="temporarily unavailable, retry later"), 503

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")  # the traceback goes to the log, never to the client
        return jsonify(error="internal error"), 500

    return app


def _blueprints(runtime: Runtime) -> list:
    """The areas this process serves: a channel's webhook only when the channel is configured, the
    dev chat page only on the embedded default; the operators' side (/stats, /metrics, /dashboard,
    the /api routes) always."""
    settings = runtime.settings
    wanted = [health.bp, products.bp, api.bp]
    if settings.TELEGRAM_BOT_TOKEN:
        wanted.append(telegram.bp)
    if settings.TWILIO_ACCOUNT_SID:
        wanted += [twilio_messaging.bp, voice.bp]
    if settings.STRIPE_SECRET_KEY:
        wanted.append(stripe_webhook.bp)
    wanted += [stats.bp, metrics.bp, dashboard.bp, operator_api.bp, operator_inbox.bp]
    if settings.embedded:
        wanted.append(devchat.bp)
    return wanted
