"""POST /api/chat: an integrator's customers, through the same queue and worker as every channel.

Authenticate (a Bearer integrator token: API_TOKEN, or a named one from API_TOKENS) -> parse
(pydantic) -> accept (dedupe + mailbox) -> wait, bounded, for the worker's reply. Past the bound:
202 and a URL to poll; a reply polled after it was dropped (replies are kept an hour) is 410.

The integrator vouches for `phone`, so it counts as verified, unless its token is restricted to
codes (`name:code`): then `phone` is refused and its customers prove a typed number with a code.
A token restricted to vouching (`name:vouch`) must send `phone` every time, so it can never make
the shop send a code. A named integrator's user ids are its own: "u1" of one integrator is never
"u1" of another (their identities, links, replies and notices are apart).

GET /api/notices: what the shop said to an integrator's user outside a reply (an order moved on,
an operator's words while a person has the conversation). /api/chat is synchronous, so nothing can
be pushed; the integrator polls this and shows what it gets. Each notice is handed out once
(fetching removes it) unless `peek=1`.
"""
from __future__ import annotations

import hashlib
import uuid
from urllib.parse import quote

from flask import Blueprint, Response, abort, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from bot.common.tokens import DEFAULT
from bot.pipeline import InboundMessage, notices
from bot.pipeline.outbox import REPLY_TTL, recipient_tag
from bot.web.bearer import principal, require_token
from bot.web.current import runtime
from bot.web.json_body import json_body

bp = Blueprint("api_chat", __name__, url_prefix="/api")

CHANNEL = "api"


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@+\-]+$")
    message: str = Field(min_length=1, max_length=4096)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    message_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")


def address_for(user_id: str) -> str:
    """The integrator's user as this shop knows them: the single token's users as they are, a named
    integrator's prefixed with its name ('/' never appears in a user id, so none can pose as another's)."""
    acting = principal()
    return user_id if acting is None or acting.name == DEFAULT else f"{acting.name}/{user_id}"


def message_id_for(req: ChatRequest, address: str) -> str:
    """Client ids are per user, so two users' '1' never collide; no id = a fresh one (no dedupe)."""
    if req.message_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{address}\0{req.message_id}".encode()).hexdigest()[:32]


def _restrict(req: ChatRequest) -> None:
    acting = principal()
    if acting is None:  # never under require_token
        abort(401, description="missing or wrong bearer token")
    token = acting.token
    if req.phone and not token.may_vouch:
        abort(403, description="this token may not vouch for a phone: leave `phone` out, and the customer proves "
                               "their number with a one-time code")
    if not req.phone and token.must_vouch:
        abort(400, description="phone: this token must vouch for the customer's phone on every message")


def _answer(reply: dict, address: str, duplicate: bool = False) -> tuple[Response, int]:
    if reply.get("to") not in (None, recipient_tag(address)):
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
def chat() -> tuple[Response, int]:
    rt = runtime()
    req = json_body(ChatRequest)
    _restrict(req)
    address = address_for(req.user_id)
    message_id = message_id_for(req, address)
    message = InboundMessage(channel=CHANNEL, message_id=message_id, address=address, text=req.message,
                             contact=req.phone)
    accepted = rt.ingress.accept(message)
    reply = rt.ingress.wait_reply(message_id, rt.settings.CHAT_WAIT_SECONDS) if accepted \
        else rt.ingress.reply(message_id)
    if reply is not None:
        return _answer(reply, address, duplicate=not accepted)
    return jsonify(message_id=message_id, status="processing", duplicate=not accepted,
                   poll=f"/api/chat/{quote(message_id, safe='')}?user_id={quote(req.user_id, safe='')}"), 202


@bp.get("/chat/<message_id>")
@require_token("API_TOKEN")
def chat_reply(message_id: str) -> tuple[Response, int]:
    user_id = request.args.get("user_id", "")
    if not user_id:
        abort(400, description="user_id: required")
    rt, address = runtime(), address_for(user_id)
    reply = rt.ingress.reply(message_id)
    if reply is not None:
        return _answer(reply, address)
    if not rt.ingress.seen(CHANNEL, message_id):
        abort(404, description="no such message")
    if rt.mailboxes.holds(f"{CHANNEL}:{address}", message_id):
        return jsonify(message_id=message_id, status="processing"), 202
    return jsonify(message_id=message_id, status="expired",
                   error=f"the reply is no longer kept (replies wait {REPLY_TTL // 60} minutes to be fetched)"), 410


@bp.get("/notices")
@require_token("API_TOKEN")
def fetch() -> Response:
    user_id = request.args.get("user_id", "")
    try:
        ChatRequest.model_validate({"user_id": user_id, "message": "-"})
    except ValueError:
        abort(400, description="user_id: required, as in /api/chat")
    identity = f"{CHANNEL}:{address_for(user_id)}"
    redis = runtime().redis
    got = notices.peek(redis, identity) if request.args.get("peek") == "1" else notices.take(redis, identity)
    return jsonify(notices=[{k: n[k] for k in ("id", "kind", "text", "at")} for n in got])
