"""The operators' API: orders (list, get, note, move on or cancel), delivery slots, products (price,
stock, on sale or not), a customer's history, export and erasure, and the audit log. Every route needs
OPERATOR_TOKEN; every change, and every view of a full phone number, is written to the audit log.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Literal

from flask import Blueprint, Response, abort, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot import outreach
from bot.common import redis_keys
from bot.common.phones import mask
from bot.customers import notify, privacy
from bot.store import FLOW
from bot.web.bearer import require_token
from bot.web.current import runtime
from bot.web.json_body import json_body
from bot.web.operators import audit, int_arg, phone_arg, who
from bot.web.orders_query import find_order, next_statuses, order_filters
from statemachine.rules import slot_when, upcoming_slots

bp = Blueprint("operator_api", __name__, url_prefix="/api")
STATUSES = (*FLOW, "awaiting_payment", "cancelled", "expired", "failed", "pending")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")  # as bot/shop/catalog_import.py accepts them


@bp.before_request
@require_token("OPERATOR_TOKEN")
def _operators_only() -> None:
    return None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["preparing", "out_for_delivery", "delivered", "cancelled"]


class ProductChange(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    price_cents: int | None = Field(default=None, gt=0, le=100_000_000, strict=True)
    stock: float | None = Field(default=None, ge=0, le=10_000_000, strict=True)
    available: bool | None = Field(default=None, strict=True)  # off sale: customers hear "out of stock"

    @model_validator(mode="after")
    def _something(self) -> ProductChange:
        if self.price_cents is None and self.stock is None and self.available is None:
            raise ValueError("give price_cents, stock and/or available")
        return self


def _time_arg(name: str) -> float | None:
    """Epoch seconds, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be epoch seconds or an ISO date like 2025-01-31")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _order_json(order: dict, full_phone: bool = False) -> dict:
    """An order for operators; its customer's phone masked except on the detail view (audited)."""
    doc = {k: v for k, v in order.items() if k not in ("holds", "key", "settled")} | {"id": order["_id"]}
    if not full_phone:
        doc["phone"] = mask(order.get("phone")) if order.get("phone") else None
    if doc.get("feedback"):
        doc["feedback"] = {k: doc["feedback"].get(k) for k in ("rating", "comment", "at")}
    return doc


# -- orders ------------------------------------------------------------------------------------

@bp.get("/orders")
def list_orders() -> Response:
    """Newest first. Filters: status, number, phone (E.164, or its last 4+ digits), q (either), date
    (placed, a UTC day), since/until, slot (a delivery slot's id)."""
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        abort(400, description=f"status must be one of {', '.join(STATUSES)}")
    since, until = _time_arg("since"), _time_arg("until")
    if day := request.args.get("date"):
        try:
            start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            abort(400, description="date must be YYYY-MM-DD (a UTC day)")
        since, until = start.timestamp(), (start + timedelta(days=1)).timestamp()
    orders = runtime().store.orders.search(status=status, since=since, until=until,
                                           limit=int_arg("limit", 50, 1, 500),
                                           skip=int_arg("offset", 0, 0, 1_000_000), **order_filters())
    return jsonify(orders=[_order_json(o) for o in orders], count=len(orders))


@bp.get("/orders/<ref>")
def get_order(ref: str) -> Response:
    """One order by its id or by the number the customer knows (/api/orders/1002), with the
    customer's full phone: each view is written to the audit log."""
    order = find_order(ref)
    audit("order.view", f"order:{order['number']}", phone=mask(order.get("phone")))
    return jsonify(order=_order_json(order, full_phone=True) | {"next": next_statuses(order["status"])})


class OrderNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=500)


@bp.post("/orders/<ref>/notes")
def add_note(ref: str) -> tuple[Response, int]:
    """An operator's note on an order ("leave at the back door"), kept with it and on its slip."""
    order, note = find_order(ref), json_body(OrderNote)
    notes = runtime().store.orders.add_note(order["_id"], note.text, who())
    audit("order.note", f"order:{order['number']}", chars=len(note.text))
    return jsonify(notes=notes), 201


@bp.post("/orders/<order_id>/status")
def change_status(order_id: str) -> Response:
    """Move an order forward (confirmed -> preparing -> out_for_delivery -> delivered) or cancel it
    (stock goes back); 409 for any other move. The customer is told on their own channel, and once
    delivered is asked for a rating."""
    rt, change = runtime(), json_body(StatusChange)
    order = find_order(order_id)
    order_id = order["_id"]
    if change.status == "cancelled":
        if not rt.store.orders.cancel(order_id, by=who()):
            abort(409, description=f"order #{order['number']} is {order['status']}: it can no longer be cancelled")
        rt.redis.hincrby(redis_keys.STATS, "orders_cancelled", 1)
        moved = rt.store.orders.get(order_id)
        if moved is None:  # erased since it was cancelled a moment ago
            abort(404, description="no such order")
    else:
        moved = rt.store.orders.move(order_id, change.status, by=who())
        if moved is None:
            abort(409, description=f"order #{order['number']} is {order['status']}: it cannot move to {change.status}")
    notified = notify.order_update(rt, moved, change.status, by=who())
    asked = outreach.ask_feedback(rt, moved) if change.status == "delivered" else None
    audit("order.status", f"order:{order['number']}", before=order["status"], after=change.status, notified=notified,
          **({"feedback_asked": asked} if change.status == "delivered" else {}))
    return jsonify(order=_order_json(moved) | {"next": next_statuses(moved["status"])}, notified=notified,
                   feedback_asked=asked)


@bp.get("/slots")
def list_slots() -> Response:
    """The delivery slots still open for booking, soonest first, with how many deliveries each holds."""
    rt = runtime()
    rules = rt.shop.current()
    upcoming = upcoming_slots(rules, time.time())
    booked = rt.store.slots.booked([s.id for s in upcoming]) if upcoming else {}
    capacity = rules.slots.capacity if rules.slots else 0
    return jsonify(slots=[{"id": s.id, "when": slot_when(s.to_dict(), rules), "start": s.start, "end": s.end,
                           "booked": booked.get(s.id, 0), "capacity": capacity} for s in upcoming])


# -- products ----------------------------------------------------------------------------------

@bp.patch("/products/<sku>")
def update_product(sku: str) -> Response:
    """Price, stock (set, not added) and availability; every process's catalog follows at once (the
    catalog version), and customers waiting for a product that is back are told, once each."""
    if not SKU.fullmatch(sku):
        abort(404, description="no such product")
    rt, change = runtime(), json_body(ProductChange)
    before = rt.store.products.get(sku)
    if before is None:
        abort(404, description="no such product")
    stock = change.stock
    if stock is not None and float(stock).is_integer():
        stock = int(stock)
    elif stock is not None and not before.weighed:
        abort(400, description=f"stock: {before.name} is sold by the {before.unit}: a whole number, like 12")
    product = rt.store.products.update(sku, price_cents=change.price_cents, stock=stock, available=change.available)
    if product is None:  # deleted since it was read a moment ago
        abort(404, description="no such product")
    rt.catalog.bump()  # every process re-reads names, prices and stock
    told = outreach.announce_restock(rt, outreach.restocked({sku: before}, {sku: product}))
    audit("product.update", f"product:{sku}", told_back_in_stock=told,
          **{k: {"before": getattr(before, k), "after": getattr(product, k)}
             for k in ("price_cents", "stock", "available") if getattr(change, k) is not None})
    return jsonify(product=product.to_doc(), told_back_in_stock=told)


# -- customers ---------------------------------------------------------------------------------

@bp.get("/customers/<phone>/history")
def customer_history(phone: str) -> Response:
    rt = runtime()
    phone = phone_arg(phone)
    customer = rt.store.customers.find_by_phone(phone)
    identities = (customer or {}).get("identities", [])
    messages = rt.store.messages.for_customer(phone, identities, limit=int_arg("limit", 200, 1, 2000))
    if customer is None and not messages:
        abort(404, description="nothing is held about that phone")
    return jsonify(customer=customer and {"name": customer.get("name"), "phone": phone,
                                          "address": customer.get("address"), "identities": identities},
                   messages=[{k: m.get(k) for k in ("at", "direction", "channel", "text", "state", "intent", "by")}
                             for m in messages])


@bp.get("/customers/<phone>/export")
def export_customer(phone: str) -> Response:
    data = privacy.export(runtime(), phone_arg(phone))
    if data is None:
        abort(404, description="nothing is held about that phone")
    audit("customer.export", f"customer:{mask(phone)}")
    response = jsonify(data)
    response.headers["Content-Disposition"] = f'attachment; filename="customer-{phone.lstrip("+")}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/customers/<phone>")
def delete_customer(phone: str) -> Response:
    try:
        erased = privacy.erase(runtime(), phone_arg(phone))
    except privacy.Busy as exc:
        abort(409, description=str(exc))
    if erased is None:
        abort(404, description="nothing is held about that phone")
    audit("customer.delete", f"customer:{mask(phone)}", **erased)
    return jsonify(erased=erased)


# -- audit log ---------------------------------------------------------------------------------

@bp.get("/audit")
def audit_log() -> Response:
    entries = runtime().store.audit.recent(int_arg("limit", 100, 1, 1000), request.args.get("action") or None)
    return jsonify(entries=[{k: e[k] for k in ("who", "action", "target", "details", "at")} for e in entries])
