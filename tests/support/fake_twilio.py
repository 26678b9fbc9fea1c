"""A small fake of Twilio's REST API (Messages resource) for tests.

`twilio.rest.Client` reaches it through TWILIO_API_URL. It checks HTTP basic auth (account SID
and auth token) like Twilio (401, code 20003), answers `POST /2010-04-01/Accounts/{sid}/Messages.json`
with 201 and a Message resource, and can refuse a recipient with a Twilio error code (21610
unsubscribed, 63016 outside WhatsApp's window, 21211 invalid number...) or fail with 5xx/429.

What it checks as the live API does (Twilio's error pages 21602/21619, 21603, 21604, 21654,
21655, 21656 and 63016, read 2026-12):
- a message needs `To` (21604), `From` (21603), and a `Body` or a `ContentSid` (21619);
- `ContentVariables` without `ContentSid` is refused (21654); a `ContentSid` must match
  `^HX[0-9a-fA-F]{32}$` and name a template of this account (21655); `ContentVariables` must be
  a JSON object whose values are non-empty strings (21656); a placeholder left out takes the
  template's default value (the SDK's documentation), so `rendered` shows what the customer reads;
- WhatsApp's 24-hour window: a free-form `Body` to a WhatsApp number whose customer has not
  written (`wrote()`) in the last 24 hours is *accepted* (201, queued) and then fails with 63016,
  as Twilio reports it later through the status callback (`messages()` shows it undelivered); an approved
  template is delivered whatever the window. Since April 2025 a template's text sent as `Body`
  fails the same way, and so it does here.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid

from tests.support.fake_http import FakeServer, Recorded

MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
WINDOW_SECONDS = 24 * 3600


class FakeTwilio(FakeServer):
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self._refusals: dict[str, tuple[int, int, str]] = {}  # To -> (status, code, message)
        self._next: list[tuple[int, int, str]] = []  # failures for the next calls, whoever they go to
        self._wrote: dict[str, float] = {}  # "whatsapp:+1..." -> when the customer last wrote
        self._templates: dict[str, tuple[str, dict]] = {}  # Content SID -> (body, default variables)
        self._lock2 = threading.Lock()
        super().__init__(self._answer)
        from tests.support import webhooks

        for sid, body in webhooks.TEMPLATES.items():  # the templates the test stacks' settings name
            self.add_template(sid, body)

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

    def wrote(self, to: str, at: float | None = None) -> None:
        """The customer at `to` ('whatsapp:+1...') sent a message at `at`: WhatsApp's window opens."""
        with self._lock2:
            self._wrote[to] = time.time() if at is None else at

    def add_template(self, sid: str, body: str, defaults: dict | None = None) -> None:
        """An approved Content Template of this account: `body` with {{1}}-style placeholders."""
        with self._lock2:
            self._templates[sid] = (body, dict(defaults or {}))

    # -- what tests read ---------------------------------------------------------------------
    def messages(self, to: str | None = None) -> list[dict]:
        """Accepted Messages.create calls as their form fields, optionally to one recipient; each
        with `status` ('delivered', or 'undelivered' with `error_code`) and `rendered` (the text the
        customer reads: the Body, or the template with its variables)."""
        return [{**r.form, **r.outcome} for r in self.snapshot() if r.method == "POST" and MESSAGES.match(r.path)
                and getattr(r, "accepted", False) and (to is None or r.form.get("To") == to)]

    def delivered(self, to: str | None = None) -> list[dict]:
        return [m for m in self.messages(to) if m["status"] == "delivered"]

    # -- the API -----------------------------------------------------------------------------
    def _answer(self, req: Recorded):
        match = MESSAGES.match(req.path)
        if req.basic_auth != (self.account_sid, self.auth_token) or (match and match["sid"] != self.account_sid):
            return _error(401, 20003, "Authenticate")
        if not match or req.method != "POST":
            return _error(404, 20404, "The requested resource was not found")
        to = req.form.get("To", "")
        with self._lock2:
            failure = self._next.pop(0) if self._next else self._refusals.get(to)
        if failure:
            return _error(*failure)
        refused = self._refuse(req.form)
        if refused:
            return refused
        rendered, status, code = self._outcome(req.form)
        sid = "SM" + uuid.uuid4().hex
        req.accepted = True
        req.outcome = {"sid": sid, "status": status, "error_code": code, "rendered": rendered}
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": to, "from": req.form.get("From"),
                     "body": rendered, "status": "queued", "num_segments": "1", "direction": "outbound-api",
                     "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}

    def _refuse(self, form: dict):
        """The synchronous 400s of a malformed create, or None."""
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            return _error(400, 21603, "A 'From' phone number is required.")
        content_sid, variables = form.get("ContentSid"), form.get("ContentVariables")
        if variables is not None and not content_sid:
            return _error(400, 21654, "ContentSid Required")
        if content_sid is not None:
            with self._lock2:
                known = content_sid in self._templates
            if not CONTENT_SID.fullmatch(content_sid) or not known:
                return _error(400, 21655, "The ContentSid is Invalid")
            if variables is not None and _variables(variables) is None:
                return _error(400, 21656, "The ContentVariables Parameter is invalid")
        elif not form.get("Body") and not form.get("MediaUrl"):
            return _error(400, 21619, "A text message body or media urls must be specified.")
        return None

    def _outcome(self, form: dict) -> tuple[str, str, int | None]:
        """(the text the customer reads, 'delivered' or 'undelivered', the error code)."""
        to = form["To"]
        if form.get("ContentSid"):
            with self._lock2:
                body, defaults = self._templates[form["ContentSid"]]
            values = {**defaults, **(_variables(form.get("ContentVariables", "{}")) or {})}
            return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body), "delivered", None
        body = form.get("Body", "")
        if to.startswith("whatsapp:"):
            with self._lock2:
                wrote = self._wrote.get(to)
            if wrote is None or time.time() - wrote >= WINDOW_SECONDS:
                return body, "undelivered", 63016
        return body, "delivered", None


def _variables(raw: str) -> dict | None:
    """ContentVariables as Twilio accepts them: a JSON object of non-empty string values."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        return None
    return data


def _error(status: int, code: int, message: str):
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}
