"""The dev chat page at / (embedded default only): try Orderline in a browser, see the 'SMS' codes.

The page carries the dev API token; that is why it exists only when no real services are set.
"""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, render_template, request

from .. import keys
from ..app import runtime

bp = Blueprint("devchat", __name__, template_folder="templates")


@bp.get("/")
def page():
    rt = runtime()
    return render_template("devchat.html", token=rt.settings.API_TOKEN, shop=rt.settings.SHOP_NAME)


@bp.get("/dev/outbox")
def outbox():
    """The last one-time codes 'sent' by SMS, for the phone number the page is using."""
    to = request.args.get("to")
    entries = [json.loads(e) for e in runtime().redis.lrange(keys.DEV_OUTBOX, 0, 49)]
    return jsonify(messages=[e for e in entries if not to or e["to"] == to][:10])
