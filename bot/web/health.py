"""Liveness and readiness for orchestrators: /healthz never touches a dependency, /readyz does."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from bot.nlu.health import ReadinessCheck
from bot.web.current import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    rt = runtime()
    checks = {}
    try:
        checks["redis"] = bool(rt.redis.ping())
    except Exception as exc:  # report, don't raise: a 503 with the reason is the answer
        checks["redis"] = False
        checks["redis_error"] = type(exc).__name__
    try:
        checks["mongodb"] = rt.store.ping()
    except Exception as exc:
        checks["mongodb"] = False
        checks["mongodb_error"] = type(exc).__name__
    ready = checks["redis"] and checks["mongodb"]
    if rt.settings.GEMINI_API_KEY:
        checks.update(_model(rt))
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def _model(rt) -> dict:
    """The last check of key and model (bot.nlu.health), refreshed in the background: reported, never a
    reason for 503, since Orderline reads every message offline when the model cannot."""

    check = current_app.extensions.get("orderline_model_check")
    if check is None:
        check = current_app.extensions["orderline_model_check"] = ReadinessCheck(rt.settings, rt.redis)
    try:
        last = check.current()
    except Exception as exc:  # Redis away: already reported above
        return {"gemini": None, "gemini_error": type(exc).__name__}
    if last is None:
        return {"gemini": None, "gemini_said": "checking the key and the model"}
    return {"gemini": last["ok"], "gemini_said": last["said"], "gemini_checked_at": last["checked_at"],
            **({"gemini_warning": last["warning"]} if last.get("warning") else {})}
