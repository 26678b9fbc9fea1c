"""A local fake of Stripe's API (Checkout Sessions) and of Stripe's signed webhooks, for tests.

The real `stripe` SDK reaches it through STRIPE_API_URL. It is as strict as the documented API
where Orderline could get it wrong: the secret key as a Bearer token (401), a Stripe-Version
header, form-encoded nested parameters with unknown ones refused ("Received unknown parameter"),
`mode` and `line_items` required, amounts as non-negative integers (at least 50 cents in USD),
three-letter lowercase currencies, `expires_at` 30 minutes to 24 hours ahead, metadata limits,
Idempotency-Key replays (the same answer; other parameters with the same key: 400
idempotency_error), 404 for an unknown session, and expiring only an open session.

Tests arrange failures (`fail_next`, `delay`) and act as the customer (`pay`), then post the
event Stripe would send, signed like Stripe signs it (`signed_event`): HMAC-SHA256 of
"<timestamp>.<payload>" with the endpoint secret, in `Stripe-Signature: t=...,v1=...`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qsl

from tests.support.fake_http import FakeServer, Recorded

SESSIONS = re.compile(r"^/v1/checkout/sessions(?:/(?P<id>cs_test_\w+)(?P<expire>/expire)?)?$")
TOP_LEVEL = {"mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata", "expires_at",
             "payment_intent_data", "customer_email", "locale", "payment_method_types", "ui_mode", "expand"}
LINE_ITEM = {"quantity", "price", "price_data", "adjustable_quantity"}
PRICE_DATA = {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product", "tax_behavior"}
PRODUCT_DATA = {"name", "description", "images", "metadata", "tax_code"}
TEST_KEY, TEST_WEBHOOK_SECRET = "sk_test_orderline0123456789", "whsec_orderlinetestsecret0123"
MINIMUM = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "inr": 50}


class StripeFail(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error",
                 code: str | None = None):
        super().__init__(message)
        self.status, self.body = status, {"error": {"type": kind, "message": message, **({"param": param} if param
                                                                                          else {}),
                                                    **({"code": code} if code else {})}}


def nested(body: bytes) -> dict:
    """'line_items[0][price_data][currency]=usd' -> {'line_items': [{'price_data': {'currency': 'usd'}}]}."""
    root: dict = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            node = node.setdefault(part, value if last else {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


def _int(value, param: str, minimum: int = 0) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeFail(400, f"Invalid integer: {value}", param)
    n = int(value)
    if n < minimum:
        raise StripeFail(400, f"This value must be greater than or equal to {minimum}.", param)
    return n


def _unknown(given: dict, allowed: set, prefix: str) -> None:
    for key in given:
        if key not in allowed:
            raise StripeFail(400, f"Received unknown parameter: {prefix}{key}", f"{prefix}{key}")


class FakeStripe(FakeServer):
    def __init__(self, secret_key: str, webhook_secret: str):
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.sessions: dict[str, dict] = {}
        self._idempotent: dict[str, tuple[dict, tuple[int, object]]] = {}
        self._failures: list[tuple[int, str]] = []
        self._delay = 0.0
        self._generation = 0  # bumped by reset: a request still sleeping from before leaves no trace
        self._mu = threading.Lock()
        super().__init__(self._answer)

    # -- what tests arrange ------------------------------------------------------------------
    def fail_next(self, status: int = 500, times: int = 1, kind: str = "api_error") -> None:
        with self._mu:
            self._failures.extend([(status, kind)] * times)

    def delay(self, seconds: float) -> None:
        """Answer every request this late (an SDK timeout shorter than this sees a dead Stripe)."""
        self._delay = seconds

    def reset(self) -> None:
        with self._mu:
            self._generation += 1
            self._failures, self._delay = [], 0.0
            self.sessions.clear()
            self._idempotent.clear()
        self.clear()

    def created(self) -> list[Recorded]:
        return [r for r in self.snapshot() if r.method == "POST" and r.path == "/v1/checkout/sessions"
                and getattr(r, "answered", 0) == 200]

    # -- the customer, and Stripe's webhook ----------------------------------------------------
    def pay(self, session_id: str) -> dict:
        with self._mu:
            s = self.sessions[session_id]
            if s["status"] != "open":
                raise AssertionError(f"session {session_id} is {s['status']}: it cannot be paid")
            s.update(status="complete", payment_status="paid", payment_intent="pi_" + uuid.uuid4().hex[:24])
            return dict(s)

    def signed_event(self, session_id: str, kind: str = "checkout.session.completed", *, secret: str | None = None,
                     timestamp: int | None = None, event_id: str | None = None, tamper=None) -> tuple[bytes, dict]:
        """The event Stripe would POST about the session: its body and headers, signed with the
        endpoint's secret (or `secret`) at `timestamp`. `tamper(event)` edits it after signing."""
        with self._mu:
            session = dict(self.sessions[session_id])
        event = {"id": event_id or "evt_" + uuid.uuid4().hex[:24], "object": "event",
                 "api_version": "2026-10-28.endive",
                 "created": int(time.time()), "data": {"object": session}, "livemode": False,
                 "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": kind}
        payload = json.dumps(event, separators=(",", ":")).encode()
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        if tamper is not None:
            tamper(event)
            payload = json.dumps(event, separators=(",", ":")).encode()
        return payload, {"Stripe-Signature": f"t={t},v1={mac}", "Content-Type": "application/json; charset=utf-8"}

    # -- the API -----------------------------------------------------------------------------
    def _answer(self, req: Recorded):
        with self._mu:  # decided on arrival, whatever happens while this request is slow
            generation, failure = self._generation, self._failures.pop(0) if self._failures else None
        if self._delay:
            time.sleep(self._delay)
        try:
            if failure or generation != self._generation:
                status, kind = failure or (503, "api_error")
                raise StripeFail(status, "An error occurred with our connection to Stripe.", kind=kind)
            status, body = self._route(req)
        except StripeFail as fail:
            status, body = fail.status, fail.body
        req.answered = status
        return status, body

    def _route(self, req: Recorded):
        if req.headers.get("authorization") != f"Bearer {self.secret_key}":
            raise StripeFail(401, "Invalid API Key provided: sk_test_****")
        if not req.headers.get("stripe-version"):
            raise StripeFail(400, "A Stripe-Version header is required")
        m = SESSIONS.match(req.path)
        if not m:
            raise StripeFail(404, f"Unrecognized request URL ({req.method}: {req.path}).")
        if req.method == "POST" and not m["id"]:
            return self._idempotently(req, lambda: self._create(nested(req.body)))
        if m["id"] not in self.sessions:
            raise StripeFail(404, f"No such checkout.session: '{m['id']}'", "session", code="resource_missing")
        if req.method == "GET" and not m["expire"]:
            return 200, self.sessions[m["id"]]
        if req.method == "POST" and m["expire"]:
            return self._idempotently(req, lambda: self._expire(m["id"]))
        raise StripeFail(404, f"Unrecognized request URL ({req.method}: {req.path}).")

    def _idempotently(self, req: Recorded, make):
        key = req.headers.get("idempotency-key")
        params = nested(req.body)
        with self._mu:
            if key and key in self._idempotent:
                first, answer = self._idempotent[key]
                if first != params:
                    raise StripeFail(400, "Keys for idempotent requests can only be used with the same parameters "
                                          "they were first used with.", kind="idempotency_error")
                return answer
        answer = make()
        with self._mu:
            if key:
                self._idempotent.setdefault(key, (params, answer))
                answer = self._idempotent[key][1]
        return answer

    def _create(self, p: dict):
        _unknown(p, TOP_LEVEL, "")
        if p.get("mode") != "payment":
            raise StripeFail(400, "Missing required param: mode." if "mode" not in p else
                             f"Invalid mode: {p['mode']}", "mode")
        items = p.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeFail(400, "You must provide at least one line item.", "line_items")
        total, currency = 0, None
        for i, item in enumerate(items):
            _unknown(item, LINE_ITEM, f"line_items[{i}][")
            quantity = _int(item.get("quantity"), f"line_items[{i}][quantity]", 1)
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise StripeFail(400, "You must specify either `price` or `price_data`.", f"line_items[{i}]")
            _unknown(price, PRICE_DATA, f"line_items[{i}][price_data][")
            cur = price.get("currency", "")
            if not re.fullmatch(r"[a-z]{3}", cur):
                raise StripeFail(400, f"Invalid currency: {cur}", f"line_items[{i}][price_data][currency]")
            if currency not in (None, cur):
                raise StripeFail(400, "All line items must use the same currency.", "line_items")
            currency = cur
            amount = _int(price.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]", 0)
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise StripeFail(400, "Missing required param: line_items[0][price_data][product_data][name].",
                                 f"line_items[{i}][price_data][product_data][name]")
            _unknown(product, PRODUCT_DATA, f"line_items[{i}][price_data][product_data][")
            total += quantity * amount
        if total < MINIMUM.get(currency, 50):
            raise StripeFail(400, "The Checkout Session's total amount due must add up to at least $0.50 usd",
                             code="amount_too_small")
        now = int(time.time())
        expires_at = _int(p["expires_at"], "expires_at") if "expires_at" in p else now + 86400
        if not now + 1800 <= expires_at <= now + 86400:
            raise StripeFail(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                                  "Checkout Session creation.", "expires_at")
        metadata = p.get("metadata") or {}
        if len(metadata) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in metadata.items()):
            raise StripeFail(400, "Invalid metadata: up to 50 keys, keys up to 40 and values up to 500 characters.",
                             "metadata")
        if len(p.get("client_reference_id", "")) > 200:
            raise StripeFail(400, "client_reference_id must be at most 200 characters.", "client_reference_id")
        for url in ("success_url", "cancel_url"):
            if url in p and not re.match(r"^https?://\S+$", p[url]):
                raise StripeFail(400, "Not a valid URL", url)
        sid = "cs_test_" + uuid.uuid4().hex
        session = {"id": sid, "object": "checkout.session", "mode": "payment", "status": "open",
                   "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total, "currency": currency,
                   "client_reference_id": p.get("client_reference_id"), "metadata": metadata, "created": now,
                   "expires_at": expires_at, "livemode": False, "payment_intent": None,
                   "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
                   "url": f"https://checkout.stripe.com/c/pay/{sid}"}
        with self._mu:
            self.sessions[sid] = session
        return 200, session

    def _expire(self, sid: str):
        with self._mu:
            s = self.sessions[sid]
            if s["status"] != "open":
                raise StripeFail(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
            s.update(status="expired")
            return 200, dict(s)
