"""The Flask app factory: one blueprint per area, JSON errors everywhere, the runtime in extensions."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from .config import Settings, load_settings

log = logging.getLogger("orderline.web")


def create_app(settings: Settings | None = None, runtime=None) -> Flask:
    settings = settings or (runtime.settings if runtime else load_settings())
    if runtime is None:
        from .runtime import build

        runtime = build(settings)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.extensions["orderline"] = runtime

    from channels import api

    from .web import health, products

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
    if settings.embedded:
        from .web import devchat

        app.register_blueprint(devchat.bp)

    @app.errorhandler(HTTPException)
    def json_error(exc: HTTPException):
        response = jsonify(error=exc.description or exc.name)
        response.status_code = exc.code or 500
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")  # the traceback goes to the log, never to the client
        return jsonify(error="internal error"), 500

    return app


def runtime():
    """The Runtime of the app handling the current request."""
    return current_app.extensions["orderline"]
