"""The dev chat page at / (embedded default only): try Orderline in a browser, see the 'SMS' codes.

It greets on load (the bot's own greeting), keeps its history across a reload (the browser's
localStorage), shows order updates and an operator's replies as they come (it polls
/api/notices), and has an inspector: for each line, the state before and after and what was
understood (intent, items, and whether the offline parser or the model read it).

The page carries the dev API token; that is why it exists only when no real services are set.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from flask import Blueprint, Response, abort, jsonify, render_template, request

from bot.web.bearer import require_token
from bot.web.current import runtime
from bot.web.dashboard import CSP

bp = Blueprint("devchat", __name__, template_folder="templates", static_folder="static",
               static_url_path="/dev/static")


@runtime_checkable
class SmsBox(Protocol):
    """The embedded default's SMS sender, which keeps what it 'sent' (channels/dev_sms.py)."""

    def recent(self, to: str | None = None, limit: int = 20) -> list[dict]: ...


@bp.get("/")
def page() -> tuple[str, int, dict[str, str]]:
    rt = runtime()
    response = render_template("devchat.html", token=rt.settings.API_TOKEN, shop=rt.settings.SHOP_NAME)
    return response, 200, {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@bp.get("/dev/outbox")
def outbox() -> Response:
    """The last one-time codes 'sent' by SMS (to the number in `?to=`, else to any); the page shows new ones."""
    box = runtime().sender("sms")
    if not isinstance(box, SmsBox):  # a real SMS sender (or none): nothing to show here
        abort(404, description="no dev SMS box")
    return jsonify(messages=box.recent(request.args.get("to") or None, limit=10))


@bp.get("/dev/reading/<message_id>")
@require_token("API_TOKEN")
def reading(message_id: str) -> Response:
    """What the worker understood of one of this user's lines (the inspector), from its history row."""
    user = request.args.get("user_id", "")
    rt = runtime()
    row = rt.store.messages.get(f"api:{message_id}:in")
    if row is None or row.get("identity") != f"api:{user}":
        abort(404, description="no such line (yet)")
    catalog = rt.catalog.current()
    entities = row.get("entities") or {}

    def named(item: dict) -> dict:
        product = catalog.get(item.get("sku", ""))
        return {**item, "name": product.name if product else item.get("sku")}

    return jsonify(intent=row.get("intent"), source=row.get("source", "offline"), state=row.get("state"),
                   items=[named(i) for i in entities.get("items", [])],
                   unknown=[u.get("text") for u in entities.get("unknown", [])],
                   ambiguous=[a.get("text") for a in entities.get("ambiguous", [])])
