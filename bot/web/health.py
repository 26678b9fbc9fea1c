"""Liveness and readiness for orchestrators: /healthz never touches a dependency, /readyz does."""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..app import runtime

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
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
