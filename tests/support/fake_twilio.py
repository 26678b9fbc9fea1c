"""A small fake of Twilio's REST API (Messages resource) for tests.

`twilio.rest.Client` reaches it through TWILIO_API_URL. It checks HTTP basic auth (account SID
and auth token) like Twilio (401, code 20003), answers `POST /2010-04-01/Accounts/{sid}/Messages.json`
with 201 and a Message resource, and can refuse a recipient with a Twilio error code (21610
unsubscribed, 63016 outside WhatsApp's window, 21211 invalid number...) or fail with 5xx/429.
"""
from __future__ import annotations

import re
import threading
import uuid

from .fake_http import FakeServer, Recorded

MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


class FakeTwilio(FakeServer):
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self._refusals: dict[str, tuple[int, int, str]] = {}  # To -> (status, code, message)
        self._next: list[tuple[int, int, str]] = []  # failures for the next calls, whoever they go to
        self._lock2 = threading.Lock()
        super().__init__(self._answer)

    # -- what tests arrange ------------------------------------------------------------------
    def refuse(self, to: str, code: int, message: str = "refused", status: int = 400) -> None:
        """Every message to `to` (as sent, e.g. 'whatsapp:+1...') fails with this Twilio error."""
        with self._lock2:
            self._refusals[to] = (status, code, message)

    def allow(self, to: str) -> None:
        with self._lock2:
            self._refusals.pop(to, None)

    def fail_next(self, status: int, code: int, message: str = "failure", times: int = 1) -> None:
        with self._lock2:
            self._next.extend([(status, code, message)] * times)

    # -- what tests read ---------------------------------------------------------------------
    def messages(self, to: str | None = None) -> list[dict]:
        """Accepted Messages.create calls as their form fields, optionally to one recipient."""
        return [dict(r.form) for r in self.snapshot() if r.method == "POST" and MESSAGES.match(r.path)
                and getattr(r, "accepted", False) and (to is None or r.form.get("To") == to)]

    # -- the API -----------------------------------------------------------------------------
    def _answer(self, req: Recorded):
        match = MESSAGES.match(req.path)
        if req.basic_auth != (self.account_sid, self.auth_token) or (match and match["sid"] != self.account_sid):
            return 401, {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
                         "status": 401}
        if not match or req.method != "POST":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        to = req.form.get("To", "")
        with self._lock2:
            failure = self._next.pop(0) if self._next else self._refusals.get(to)
        if failure:
            status, code, message = failure
            return status, {"code": code, "message": message, "status": status,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        if not to or not req.form.get("Body") or not req.form.get("From"):
            return 400, {"code": 21604, "message": "A 'To', 'From' and 'Body' are required", "status": 400}
        req.accepted = True
        sid = "SM" + uuid.uuid4().hex
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": to, "from": req.form.get("From"),
                     "body": req.form.get("Body"), "status": "queued", "num_segments": "1", "direction": "outbound-api",
                     "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}
