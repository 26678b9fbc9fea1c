"""`POST /webhooks/stripe`: Stripe's signed events about Checkout Sessions.

Verified before anything is read: the SDK checks the `Stripe-Signature` HMAC (constant-time)
against STRIPE_WEBHOOK_SECRET and refuses a timestamp older than TOLERANCE, so a forged event
or an old one replayed gets 403 and changes nothing. A signed event is applied idempotently: an
event delivered twice (Stripe retries) finds the order already paid and answers 200 with
`duplicate`; a payment for an order that expired or was cancelled meanwhile answers `late` (it is
audited and logged for a refund, bot/payments/settlement.py). A signed event whose session or
amount is not the order's gets 400, nothing changed.

    checkout.session.completed (paid), checkout.session.async_payment_succeeded -> paid
    checkout.session.expired, checkout.session.async_payment_failed              -> expired
"""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import stripe
from flask import Blueprint, Response, jsonify, request

from bot.common import redis_keys
from bot.payments import settlement
from bot.web.current import runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.payments")

bp = Blueprint("stripe_webhook", __name__, url_prefix="/webhooks/stripe")
TOLERANCE = 300  # seconds: Stripe's own default
PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
EXPIRED = ("checkout.session.expired", "checkout.session.async_payment_failed")


def _refuse(status: int, reason: str, counter: str) -> tuple[Response, int]:
    runtime().redis.hincrby(redis_keys.STATS, counter, 1)
    return jsonify(error=reason), status


@bp.post("")
def receive() -> Response | tuple[Response, int]:
    rt = runtime()
    payload = request.get_data(cache=False)
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), request.headers.get("Stripe-Signature"),
                                              rt.settings.STRIPE_WEBHOOK_SECRET, tolerance=TOLERANCE)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        log.warning("stripe webhook refused: signature or timestamp did not verify")
        return _refuse(403, "signature verification failed", "stripe_webhooks_refused")
    try:
        event = json.loads(payload)
        session = event["data"]["object"]
        kind, event_id, session_id = event["type"], event["id"], session["id"]
        if not all(isinstance(v, str) for v in (kind, event_id, session_id)) or not isinstance(session, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _refuse(400, "malformed event", "stripe_webhooks_malformed")
    if kind not in PAID + EXPIRED or (kind == PAID[0] and session.get("payment_status") != "paid"):
        return jsonify(ok=True, ignored=kind)
    order_id = (session.get("metadata") or {}).get("order_id") or session.get("client_reference_id")
    if not isinstance(order_id, str):
        return jsonify(ok=True, ignored="no order")
    if kind in PAID:
        return _paid(rt, order_id, session, event_id)
    return _expired(rt, order_id, session_id)


def _paid(rt: Runtime, order_id: str, session: dict, event_id: str) -> Response | tuple[Response, int]:
    amount, currency = session.get("amount_total"), session.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return _refuse(400, "malformed event", "stripe_webhooks_malformed")
    outcome, order = settlement.apply_paid(rt, order_id, session["id"], amount, currency, event_id)
    if outcome == "mismatch":
        return _refuse(400, "the session or amount does not match the order", "stripe_webhooks_mismatch")
    if outcome == "unknown":
        return jsonify(ok=True, ignored="unknown order")
    return jsonify(ok=True, **({outcome: True} if outcome != "paid" else {}))


def _expired(rt: Runtime, order_id: str, session_id: str) -> Response:
    if settlement.apply_expired(rt, order_id, session_id) == "unknown":
        return jsonify(ok=True, ignored="unknown order")
    return jsonify(ok=True)
