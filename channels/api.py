"""POST /api/chat: an integrator's customers, through the same queue and worker as every channel.

Authenticate (Bearer API_TOKEN) -> parse (pydantic) -> accept (dedupe + mailbox) -> wait, bounded,
for the worker's reply. Past the bound: 202 and a URL to fetch the reply. The integrator vouches
for `phone`, so it counts as verified.
"""
from __future__ import annotations

import hashlib
import uuid

from flask import Blueprint, abort, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from bot.app import runtime
from bot.auth import require_token
from bot.web.json_body import json_body

from bot.pipeline import InboundMessage

bp = Blueprint("api_chat", __name__, url_prefix="/api")

CHANNEL = "api"


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+\-]+$")
    message: str = Field(min_length=1, max_length=4096)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    message_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")


def message_id_for(req: ChatRequest) -> str:
    """Client ids are per user, so two users' '1' never collide; no id = a fresh one (no dedupe)."""
    if req.message_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{req.user_id}\0{req.message_id}".encode()).hexdigest()[:32]


def _answer(reply: dict, user_id: str, duplicate: bool = False):
    if reply.get("to") not in (None, user_id):
        abort(404, description="no such message")
    body = {"message_id": reply["message_id"], "replies": [r["text"] for r in reply["replies"]],
            "state": reply.get("state")}
    buttons = [b for r in reply["replies"] for b in r.get("buttons", [])]
    if buttons:
        body["buttons"] = buttons
    if reply.get("error"):
        body["error"] = reply["error"]
    if duplicate:
        body["duplicate"] = True
    return jsonify(body), 200


@bp.post("/chat")
@require_token("API_TOKEN")
def chat():
    rt = runtime()
    req = json_body(ChatRequest)
    message_id = message_id_for(req)
    message = InboundMessage(channel=CHANNEL, message_id=message_id, address=req.user_id, text=req.message,
                             contact=req.phone)
    accepted = rt.ingress.accept(message)
    reply = rt.ingress.wait_reply(message_id, rt.settings.CHAT_WAIT_SECONDS) if accepted \
        else rt.ingress.reply(message_id)
    if reply is not None:
        return _answer(reply, req.user_id, duplicate=not accepted)
    return jsonify(message_id=message_id, status="processing", duplicate=not accepted,
                   poll=f"/api/chat/{message_id}?user_id={req.user_id}"), 202


@bp.get("/chat/<message_id>")
@require_token("API_TOKEN")
def chat_reply(message_id: str):
    user_id = request.args.get("user_id", "")
    if not user_id:
        abort(400, description="user_id: required")
    rt = runtime()
    reply = rt.ingress.reply(message_id)
    if reply is None:
        if not rt.ingress.seen(CHANNEL, message_id):
            abort(404, description="no such message")
        return jsonify(message_id=message_id, status="processing"), 202
    return _answer(reply, user_id)
