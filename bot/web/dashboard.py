"""GET /dashboard: the page an operator keeps open. Server-rendered shell, a little vanilla JS
(bot/web/static/*.js, no build step) polling GET /api/dashboard every few seconds.

The page holds no data and no token: the operator types the token once, the page keeps it in
sessionStorage (gone when the tab closes) and sends it as a Bearer header; it is never in a URL.
Customer text is written with textContent only, and the CSP forbids inline script.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from bot.common.phones import mask
from bot.operations import activity, figures
from bot.web.bearer import require_token
from bot.web.current import runtime
from bot.web.operator_inbox import waiting_list
from bot.web.orders_query import next_statuses

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/dashboard/static")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAYMENT_STATUS_WORDS = {"pending": "waiting", "paid_after_release": "paid after release (refund)"}


@bp.get("/dashboard")
def page() -> tuple[str, int, dict[str, str]]:
    response = render_template("dashboard.html", shop=runtime().settings.SHOP_NAME)
    return response, 200, {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def _order_row(o: dict) -> dict:
    pay = o.get("payment") or {}
    return {"id": o["_id"], "number": o["number"], "status": o["status"], "total_cents": o["total_cents"],
            "currency": o.get("currency"), "channel": o.get("channel"), "customer": o.get("customer_name"),
            "phone": mask(o.get("phone")), "created_at": o["created_at"], "next": next_statuses(o["status"]),
            "lines": len(o.get("lines", [])), "slot": (o.get("slot") or {}).get("when"),
            "payment": payment_words(pay), "rating": (o.get("feedback") or {}).get("rating")}


def payment_words(pay: dict) -> str:
    """'on delivery', 'online · paid', 'online · waiting', 'online · paid after release (refund)'."""
    if not pay or pay.get("method") == "on_delivery":
        return "on delivery" + (" (link failed)" if pay.get("fallback") else "")
    status = str(pay.get("status"))
    return f"online · {PAYMENT_STATUS_WORDS.get(status, status)}"


@bp.get("/api/dashboard")
@require_token("OPERATOR_TOKEN")
def data() -> Response:
    rt = runtime()
    snapshot = figures.snapshot(rt)
    snapshot.pop("counters")
    response = jsonify(
        stats=snapshot, shop=rt.settings.SHOP_NAME,
        series={"minutes": activity.series(rt.redis, "m", 60), "hours": activity.series(rt.redis, "h", 24)},
        orders=[_order_row(o) for o in rt.store.orders.search(limit=20)],
        handoffs=waiting_list(rt, 50),
        dead_letters=rt.deadletters.recent(50),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
