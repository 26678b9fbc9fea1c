"""What waits for an operator: conversations asking for a person (reply, hand back) and dead
letters (retry). OPERATOR_TOKEN on every route; every action is audited.

Replies and hand-backs are not sent from here: they join the customer's mailbox as control
messages, and the worker delivers them in order with the customer's own messages (202).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, jsonify
from pydantic import BaseModel, ConfigDict, Field

from bot.common.phones import mask
from bot.customers import handoff
from bot.pipeline import NotRetryable, QueueBusy
from bot.pipeline.queues import kick_messages, kick_outbound
from bot.web.bearer import require_token
from bot.web.current import runtime
from bot.web.json_body import json_body
from bot.web.operators import audit, int_arg, who

if TYPE_CHECKING:
    from bot.runtime import Runtime

bp = Blueprint("operator_inbox", __name__, url_prefix="/api")
RETRY_WAIT_SECONDS = 3.0


@bp.before_request
@require_token("OPERATOR_TOKEN")
def _operators_only() -> None:
    return None


class OperatorReply(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=1600)


def waiting_list(rt: Runtime, limit: int = 100, messages: int = 8) -> list[dict]:
    """Waiting conversations, oldest first, each with its last few messages for context. `key` is
    the opaque id the reply and hand-back URLs take (no phone number in a URL); the phone is masked."""
    now, out = time.time(), []
    for info in handoff.waiting(rt.redis, limit):
        recent = rt.store.messages.for_customer(info.get("phone"), [info["identity"]], limit=messages)
        out.append({"key": info.get("id") or handoff.handoff_id(info["key"]), "channel": info["channel"],
                    "name": info.get("name"), "phone": mask(info["phone"]) if info.get("phone") else None,
                    "text": info.get("text"), "since": info["since"], "waiting_seconds": round(now - info["since"], 1),
                    "messages": [{k: m.get(k) for k in ("at", "direction", "text", "by")} for m in reversed(recent)]})
    return out


def _waiting(hid: str) -> dict:
    info = handoff.by_id(runtime().redis, hid)
    if info is None:
        abort(404, description="that conversation is not waiting for a person")
    return info


@bp.get("/handoffs")
def list_handoffs() -> Response:
    return jsonify(waiting=waiting_list(runtime(), int_arg("limit", 100, 1, 500)))


@bp.post("/handoffs/<key>/reply")
def reply(key: str) -> tuple[Response, int]:
    info, said = _waiting(key), json_body(OperatorReply)
    message_id = handoff.send(runtime().ingress, info, handoff.OPERATOR_REPLY, said.text, by=who())
    audit("handoff.reply", f"handoff:{key}", channel=info["channel"], chars=len(said.text))
    return jsonify(queued=message_id), 202


@bp.post("/handoffs/<key>/handback")
def handback(key: str) -> tuple[Response, int]:
    info = _waiting(key)
    message_id = handoff.send(runtime().ingress, info, handoff.HANDBACK, by=who())
    audit("handoff.handback", f"handoff:{key}", channel=info["channel"])
    return jsonify(queued=message_id), 202


@bp.get("/deadletters")
def list_dead_letters() -> Response:
    rt = runtime()
    return jsonify(waiting=rt.deadletters.count(), items=rt.deadletters.recent(int_arg("limit", 100, 1, 1000)))


@bp.post("/deadletters/<entry_id>/retry")
def retry_dead_letter(entry_id: str) -> tuple[Response, int]:
    """Put it back where it belongs: a message at the head of its mailbox, a reply at the head of
    its recipient's outbox. A worker busy with that customer right now makes us wait a moment."""
    rt = runtime()
    deadline = time.monotonic() + RETRY_WAIT_SECONDS
    while True:
        try:
            retried = rt.deadletters.retry(entry_id, lambda reply_id: sent_text(rt, reply_id))
            break
        except NotRetryable as exc:
            abort(409, description=str(exc))
        except QueueBusy as exc:
            if time.monotonic() > deadline:
                abort(409, description=str(exc))
            time.sleep(0.1)
    if retried is None:
        abort(404, description="no such dead letter (already retried?)")
    kick_messages(rt.redis) if retried["kind"] == "inbound" else kick_outbound(rt.redis)
    audit("deadletter.retry", f"deadletter:{entry_id}", kind=retried["kind"], channel=retried["channel"])
    return jsonify(retried=retried), 202


def sent_text(rt: Runtime, reply_id: str) -> str | None:
    """The text of a reply we sent, from the message history ("sms:SM1:0" is row "sms:SM1:out:0";
    an order update's reply id is its row's id)."""
    parts = reply_id.split(":")
    row_ids = [f"{parts[0]}:{parts[1]}:out:{parts[2]}"] if len(parts) == 3 and parts[2].isdigit() else []
    for row_id in row_ids + [reply_id]:
        row = rt.store.messages.get(row_id)
        if row and row.get("direction") == "out":
            return row.get("text")
    return None
