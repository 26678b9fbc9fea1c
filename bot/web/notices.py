"""GET /api/notices: what the shop said to an integrator's user outside a reply (an order moved
on, an operator's words while a person has the conversation). /api/chat is synchronous, so
nothing can be pushed; the integrator polls this and shows what it gets. Each notice is handed
out once (fetching removes it) unless `peek=1`.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from bot.app import runtime
from bot.auth import require_token
from bot.pipeline import notices
from channels.api import CHANNEL, ChatRequest, address_for

bp = Blueprint("notices", __name__, url_prefix="/api")


@bp.get("/notices")
@require_token("API_TOKEN")
def fetch():
    user_id = request.args.get("user_id", "")
    try:
        ChatRequest.model_validate({"user_id": user_id, "message": "-"})
    except ValueError:
        abort(400, description="user_id: required, as in /api/chat")
    identity = f"{CHANNEL}:{address_for(user_id)}"
    redis = runtime().redis
    got = notices.peek(redis, identity) if request.args.get("peek") == "1" else notices.take(redis, identity)
    return jsonify(notices=[{k: n[k] for k in ("id", "kind", "text", "at")} for n in got])
