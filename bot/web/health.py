"""Liveness and readiness for orchestrators: /healthz never touches a dependency, /readyz does."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify

from bot.nlu.model_check import ReadinessCheck
from bot.web.current import runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime

bp = Blueprint("health", __name__)


Check = dict[str, bool | str | float | None]  # /readyz's "checks": a name's verdict, and what went wrong


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = runtime()
    checks: Check = {}
    try:
        redis_ok = bool(rt.redis.ping())
    except Exception as exc:  # report, don't raise: a 503 with the reason is the answer
        redis_ok, checks["redis_error"] = False, type(exc).__name__
    try:
        mongodb_ok = rt.store.ping()
    except Exception as exc:
        mongodb_ok, checks["mongodb_error"] = False, type(exc).__name__
    checks.update(redis=redis_ok, mongodb=mongodb_ok)
    ready = redis_ok and mongodb_ok
    if rt.settings.GEMINI_API_KEY:
        checks.update(_model(rt))
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def _model(rt: Runtime) -> Check:
    """The last check of key and model (bot.nlu.model_check), refreshed in the background: reported, never a
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
