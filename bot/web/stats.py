"""GET /stats: every figure an operator watches, as JSON (OPERATOR_TOKEN). See bot/operations/figures.py."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bot.operations import figures
from bot.web.bearer import require_token
from bot.web.current import runtime

bp = Blueprint("stats", __name__)


@bp.get("/stats")
@require_token("OPERATOR_TOKEN")
def get_stats() -> Response:
    response = jsonify(figures.snapshot(runtime()))
    response.headers["Cache-Control"] = "no-store"
    return response
