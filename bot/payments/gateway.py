"""Stripe's API through the official SDK: create, read and expire Checkout Sessions.

Errors become Orderline's: a timeout, a lost connection, a 429 or a 5xx is PaymentUnavailable
(transient); anything else Stripe refuses is PaymentRefused (a bug or a misconfiguration, never
worth retrying). The SDK retries transient failures itself (`max_network_retries`, with the
idempotency key, so a retried create returns the same session); each try is bounded by
STRIPE_TIMEOUT_SECONDS. Secrets are never logged.
"""
from __future__ import annotations

import logging

import stripe

from bot.common.errors import PermanentError, TransientError
from bot.config import Settings

log = logging.getLogger("orderline.payments")

MAX_RETRIES = 2


class PaymentUnavailable(TransientError):
    """Stripe could not be reached in time, or answered 429/5xx."""


class PaymentRefused(PermanentError):
    """Stripe refused the request (4xx other than 429)."""


def _translate(exc: stripe.StripeError) -> Exception:
    status = exc.http_status or 0
    kind = type(exc).__name__
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)) or status >= 500 or status == 429 \
            or (isinstance(exc, stripe.APIError) and not status):
        return PaymentUnavailable(f"Stripe unavailable: {kind} {status or ''}".strip())
    return PaymentRefused(f"Stripe refused the request: {kind} {status} {getattr(exc, 'code', '') or ''}".strip())


class StripeGateway:
    def __init__(self, settings: Settings):
        if not settings.STRIPE_SECRET_KEY:
            raise ValueError("StripeGateway needs STRIPE_SECRET_KEY")
        http = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
        self.client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, http_client=http,
                                          base_addresses={"api": settings.STRIPE_API_URL},
                                          max_network_retries=MAX_RETRIES)
        self.success_url = settings.STRIPE_SUCCESS_URL

    def create_session(self, order: dict, expires_at: int) -> dict:
        """A Checkout Session for the order's total (one line: "Order #1001"); the same session
        for the same order however often it is asked (idempotency key from the order's id)."""
        params = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": order["currency"].lower(), "unit_amount": int(order["total_cents"]),
                "product_data": {"name": f"Order #{order['number']}"}}}],
            "client_reference_id": order["_id"],
            "metadata": {"order_id": order["_id"], "order_number": str(order["number"])},
            "payment_intent_data": {"metadata": {"order_id": order["_id"]}},
            "expires_at": int(expires_at),
        }
        if self.success_url:
            params["success_url"] = self.success_url
        session = self._call(self.client.v1.checkout.sessions.create, params,
                             options={"idempotency_key": f"orderline-checkout-{order['_id']}"})
        return {"id": session.id, "url": session.url, "expires_at": session.expires_at}

    def session(self, session_id: str) -> dict:
        s = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        return {"id": s.id, "status": s.status, "payment_status": s.payment_status, "amount_total": s.amount_total,
                "currency": s.currency}

    def expire(self, session_id: str) -> dict:
        s = self._call(self.client.v1.checkout.sessions.expire, session_id)
        return {"id": s.id, "status": s.status}

    @staticmethod
    def _call(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            err = _translate(exc)
            log.warning("stripe call failed: %s", err)
            raise err from exc
