"""GET /api/products: the catalog, for integrators and operators (prices in integer cents)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from bot.web.bearer import require_token
from bot.web.current import runtime

bp = Blueprint("products", __name__, url_prefix="/api")


@bp.get("/products")
@require_token("API_TOKEN", "OPERATOR_TOKEN")
def list_products() -> Response:
    rt = runtime()
    catalog = rt.catalog.current()
    q = (request.args.get("q") or "").strip().lower()
    category = (request.args.get("category") or "").strip().lower()
    try:
        limit = min(int(request.args.get("limit", 500)), 5000)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        abort(400, description="limit and offset must be integers")
    items = [p for p in catalog.records()
             if (not q or q in p.name.lower() or any(q in a for a in p.aliases))
             and (not category or p.category.lower() == category)]
    page = items[offset:offset + limit]
    return jsonify(currency=rt.settings.CURRENCY, total=len(items), products=[p.to_doc() for p in page])
