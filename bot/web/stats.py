"""GET /stats: every figure an operator watches, as JSON (OPERATOR_TOKEN). See bot/stats.py."""
from __future__ import annotations

from flask import Blueprint, jsonify

from bot import stats
from bot.app import runtime
from bot.auth import require_token

bp = Blueprint("stats", __name__)


@bp.get("/stats")
@require_token("OPERATOR_TOKEN")
def get_stats():
    response = jsonify(stats.snapshot(runtime()))
    response.headers["Cache-Control"] = "no-store"
    return response
