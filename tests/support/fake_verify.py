"""A fake of Twilio Verify v2 (Verifications and VerificationCheck), as strict as the documented API.

The real `twilio.rest.Client` reaches it through TWILIO_API_URL (every Twilio host is rewritten to
this base). What it holds the client to, from Twilio's Verify API reference and error pages:
- HTTP basic auth with the account SID and auth token, else 401 (20003); an unknown service SID 404
  (20404); form-encoded bodies only.
- POST /v2/Services/{VA}/Verifications: `To` (E.164, a valid number) and `Channel` (sms, call,
  email, whatsapp, sna, auto) are required, else 400 (60200). SMS to a landline is 400 (60205). A
  pending verification for the same `To` is reused (same sid, same code) for 10 minutes; its 6th
  send is 429 (60203). Answers 201 with the Verification resource (status `pending`).
- POST /v2/Services/{VA}/VerificationCheck: `Code` (4 to 10 characters) and `To` or
  `VerificationSid` are required, else 400 (60200). No pending verification (never sent, expired
  after 10 minutes, approved, canceled) is 404 (20404); the 6th check of one verification is
  429 (60202). A right code answers status `approved` (and ends the verification), a wrong one
  status `pending`; both 200.
Tests read the code a phone would have received (`code_for`), move its clock (`advance`), block a
number as Verify's fraud guard does (60410) or fail the next calls.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from datetime import UTC, datetime

import phonenumbers

from tests.support.fake_http import FakeServer, Recorded

PATH = re.compile(r"^/v2/Services/(?P<service>[^/]+)/(?P<what>Verifications|VerificationCheck)(?:/(?P<sid>[^/]+))?$")
SERVICE_SID = re.compile(r"^VA[0-9a-fA-F]{32}$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
CHANNELS = {"sms", "call", "email", "whatsapp", "sna", "auto"}
LIFETIME = 600  # seconds a verification stays pending
MAX_SENDS = 5
MAX_CHECKS = 5


def _error(status: int, code: int, message: str):
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


class FakeVerify(FakeServer):
    def __init__(self, account_sid: str, auth_token: str, service_sid: str):
        self.account_sid, self.auth_token, self.service_sid = account_sid, auth_token, service_sid
        self.offset = 0.0  # added to the clock (advance)
        self.verifications: dict[str, dict] = {}  # sid -> state
        self.blocked: set[str] = set()
        self._next: list[tuple[int, int, str]] = []
        self._codes = itertools.count(246810)
        self._vlock = threading.Lock()
        super().__init__(self._answer)

    # -- what tests arrange and read -------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def block(self, to: str) -> None:
        self.blocked.add(to)

    def fail_next(self, status: int, code: int, message: str = "failure", times: int = 1) -> None:
        with self._vlock:
            self._next.extend([(status, code, message)] * times)

    def code_for(self, to: str) -> str | None:
        """The code the phone `to` received last (None if Verify texted it nothing)."""
        with self._vlock:
            mine = [v for v in self.verifications.values() if v["to"] == to and v["sends"]]
            return mine[-1]["code"] if mine else None

    def sends(self, to: str | None = None) -> int:
        """SMS Verify sent (each send of a reused verification counts)."""
        with self._vlock:
            return sum(v["sends"] for v in self.verifications.values() if to is None or v["to"] == to)

    def reset(self) -> None:
        with self._vlock:
            self.verifications.clear()
            self.blocked.clear()
            self._next.clear()
            self.offset = 0.0
        self.clear()

    # -- the API ---------------------------------------------------------------------------------
    def _now(self) -> float:
        return time.time() + self.offset

    def _answer(self, req: Recorded):
        if req.basic_auth != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate")
        match = PATH.match(req.path)
        if not match or req.method != "POST" or match["sid"]:
            return _error(404, 20404, f"The requested resource {req.path} was not found")
        if not SERVICE_SID.match(match["service"]) or match["service"] != self.service_sid:
            return _error(404, 20404, f"The requested resource {req.path} was not found")
        if not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _error(400, 60200, "Invalid parameter")
        with self._vlock:
            if self._next:
                return _error(*self._next.pop(0))
            if match["what"] == "Verifications":
                return self._create(req.form)
            return self._check(req.form, req.path)

    def _pending(self, to: str | None = None, sid: str | None = None) -> dict | None:
        now = self._now()
        for v in self.verifications.values():
            if v["status"] == "pending" and now - v["created"] >= LIFETIME:
                v["status"] = "expired"
        for v in self.verifications.values():
            if v["status"] == "pending" and ((to and v["to"] == to) or (sid and v["sid"] == sid)):
                return v
        return None

    def _create(self, form: dict):
        to, channel = form.get("To"), form.get("Channel")
        if not to:
            return _error(400, 60200, "Invalid parameter: To")
        if not channel or channel not in CHANNELS:
            return _error(400, 60200, "Invalid parameter: Channel")
        try:
            number = phonenumbers.parse(to, None)
            valid = bool(E164.match(to)) and phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            return _error(400, 60200, f"Invalid parameter `To`: {to}")
        if channel == "sms" and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
            return _error(400, 60205, "SMS is not supported by landline phone number")
        if to in self.blocked:
            return _error(403, 60410, "Verification delivery attempt blocked")
        v = self._pending(to=to)
        if v is None:
            v = {"sid": "VE" + uuid.uuid4().hex, "to": to, "channel": channel, "code": str(next(self._codes)),
                 "created": self._now(), "sends": 0, "checks": 0, "status": "pending"}
            self.verifications[v["sid"]] = v
        if v["sends"] >= MAX_SENDS:
            return _error(429, 60203, "Max send attempts reached")
        v["sends"] += 1
        return 201, self._resource(v, attempts=True)

    def _check(self, form: dict, path: str):
        code, to, sid = form.get("Code"), form.get("To"), form.get("VerificationSid")
        if not code or not 4 <= len(code) <= 10:
            return _error(400, 60200, "Invalid parameter: Code")
        if not to and not sid:
            return _error(400, 60200, "Either a 'To' number or 'VerificationSid' must be specified")
        v = self._pending(to=to, sid=sid)
        if v is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if v["checks"] >= MAX_CHECKS:
            return _error(429, 60202, "Max check attempts reached")
        v["checks"] += 1
        if code == v["code"]:
            v["status"] = "approved"
        return 200, self._resource(v)

    def _resource(self, v: dict, attempts: bool = False) -> dict:
        stamp = datetime.fromtimestamp(v["created"], tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"sid": v["sid"], "service_sid": self.service_sid, "account_sid": self.account_sid, "to": v["to"],
                "channel": v["channel"], "status": v["status"], "valid": v["status"] == "approved", "amount": None,
                "payee": None, "date_created": stamp, "date_updated": stamp}
        if attempts:
            body.update(lookup={"carrier": None}, sna=None,
                        send_code_attempts=[{"attempt_sid": "VL" + uuid.uuid4().hex, "channel": v["channel"],
                                             "time": stamp}] * v["sends"],
                        url=f"https://verify.twilio.com/v2/Services/{self.service_sid}/Verifications/{v['sid']}")
        else:
            body["sna_attempts_error_codes"] = []
        return body
