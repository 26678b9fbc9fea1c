"""The Flask app factory: one blueprint per area, JSON errors everywhere, the runtime in extensions."""
from __future__ import annotations

import logging

from flask import Flask, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.config import Settings, load_settings
from bot.errors import TransientError

log = logging.getLogger("orderline.web")


def create_app(settings: Settings | None = None, runtime=None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    if runtime is None:
        from bot.runtime import build

        runtime = build(settings)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.extensions["orderline"] = runtime

    from bot.web import health, products
    from channels import api

    app.register_blueprint(health.bp)
    app.register_blueprint(products.bp)
    app.register_blueprint(api.bp)
    if settings.TELEGRAM_BOT_TOKEN:
        from channels import telegram

        app.register_blueprint(telegram.bp)
    if settings.TWILIO_ACCOUNT_SID:
        from channels import twilio_messaging, voice

        app.register_blueprint(twilio_messaging.bp)
        app.register_blueprint(voice.bp)
    if settings.STRIPE_SECRET_KEY:
        from bot.payments import webhook

        app.register_blueprint(webhook.bp)
    _register_operator_side(app, runtime)
    if settings.embedded:
        from bot.web import devchat

        app.register_blueprint(devchat.bp)

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


def _register_operator_side(app: Flask, runtime) -> None:
    """/stats, /metrics, /dashboard and the operators' /api routes (issue 5), and /api/notices."""
    from bot import stats
    from bot.web import dashboard, metrics, notices, operator_api, operator_inbox
    from bot.web import stats as stats_view

    stats.mark_started(runtime.redis)
    for module in (stats_view, metrics, dashboard, operator_api, operator_inbox, notices):
        app.register_blueprint(module.bp)


def runtime():
    """The Runtime of the app handling the current request."""
    return current_app.extensions["orderline"]
