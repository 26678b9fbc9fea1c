"""A tiny threaded HTTP server for tests: records every request and answers through a handler.

The fake Telegram Bot API and the fake Twilio REST API are built on it, so the real SDKs talk
real HTTP (keep-alive included) and a test can assert the exact requests they made.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)  # form or multipart fields, one value each
    json: object = None
    at: float = field(default_factory=time.time)

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password


def _parse_body(headers: dict, body: bytes) -> tuple[dict, object]:
    ctype = headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}, None
    if ctype.startswith("application/json"):
        data = json.loads(body or b"null")
        return (data if isinstance(data, dict) else {}), data
    if ctype.startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP

        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        return {part.get_param("name", header="content-disposition"): part.get_content()
                for part in msg.iter_parts()}, None
    return {}, None


Handler = Callable[[Recorded], tuple[int, object]]


class FakeServer:
    """Start with `.start()`; `.url` is its base; `.requests` what it received, oldest first."""

    def __init__(self, handler: Handler):
        self.handler = handler
        self.requests: list[Recorded] = []
        self._lock = threading.RLock()  # re-entrant: a wait_for predicate may read the requests
        self._changed = threading.Condition(self._lock)
        fake = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' pooled clients expect
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                form, data = _parse_body(headers, body)
                rec = Recorded(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                               headers, body, form, data)
                status, payload = fake.handler(rec)
                with fake._changed:
                    fake.requests.append(rec)
                    fake._changed.notify_all()
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = _handle

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def wait_for(self, predicate: Callable[[list[Recorded]], bool], timeout: float = 10.0) -> list[Recorded]:
        """Block until `predicate(requests)` holds; returns the requests. Raises AssertionError past `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake server: condition not met within {timeout}s; got "
                                         f"{[(r.method, r.path, r.form) for r in self.requests][-5:]}")
                self._changed.wait(min(left, 0.1))
            return list(self.requests)
