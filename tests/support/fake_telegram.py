"""A small fake of the Telegram Bot API (https://core.telegram.org/bots/api) for tests.

`Bot(token, base_url=fake.url + "/bot")` talks to it over real HTTP. It answers the methods
Orderline calls the way Telegram does (`{"ok": true, "result": ...}`), refuses a wrong token
with 401, and can be told to answer like a chat that blocked the bot (403), a flood limit (429
with `retry_after`) or a bad request (400). `sent(chat_id)` lists the sendMessage calls.
"""
from __future__ import annotations

import itertools
import json
import threading
import time

from tests.support.fake_http import FakeServer, Recorded

BOT_ID = 7000001


class FakeTelegram(FakeServer):
    def __init__(self, token: str):
        self.token = token
        self._ids = itertools.count(100)
        self._script: dict[str, list[tuple[int, str, dict | None]]] = {}  # method -> queued failures
        self.blocked: set[str] = set()  # chat ids that blocked the bot
        self._script_lock = threading.Lock()
        super().__init__(self._answer)

    # -- what tests arrange ------------------------------------------------------------------
    def fail_next(self, method: str, status: int, description: str, parameters: dict | None = None,
                  times: int = 1) -> None:
        with self._script_lock:
            self._script.setdefault(method, []).extend([(status, description, parameters)] * times)

    def block(self, chat_id) -> None:
        self.blocked.add(str(chat_id))

    # -- what tests read ---------------------------------------------------------------------
    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.snapshot() if r.path.endswith("/" + method)]

    def sent(self, chat_id=None) -> list[dict]:
        """sendMessage calls as dicts (reply_markup decoded), optionally to one chat."""
        out = []
        for r in self.calls("sendMessage"):
            fields = dict(r.form)
            if "reply_markup" in fields:
                fields["reply_markup"] = json.loads(fields["reply_markup"])
            if chat_id is None or str(fields.get("chat_id")) == str(chat_id):
                out.append(fields)
        return out

    # -- the API -----------------------------------------------------------------------------
    def _answer(self, req: Recorded):
        method = req.path.rsplit("/", 1)[-1]
        with self._script_lock:
            queued = self._script.get(method)
            failure = queued.pop(0) if queued else None
        if not failure and not req.path.startswith(f"/bot{self.token}/"):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if failure:
            status, description, parameters = failure
            body = {"ok": False, "error_code": status, "description": description}
            if parameters:
                body["parameters"] = parameters
            return status, body
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": BOT_ID, "is_bot": True, "first_name": "Orderline",
                                                 "username": "orderline_test_bot"}}
        if method == "sendMessage":
            chat_id = str(req.form.get("chat_id"))
            if chat_id in self.blocked:
                return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            text = req.form.get("text", "")
            if not text or len(text) > 4096:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"
                             if text else "Bad Request: message text is empty"}
            return 200, {"ok": True, "result": {
                "message_id": next(self._ids), "date": int(time.time()), "text": text,
                "chat": {"id": int(chat_id), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Orderline"}}}
        if method in ("setWebhook", "deleteWebhook"):
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
