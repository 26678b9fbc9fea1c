"""The lean limit: a bare WSGI route doing one LPUSH, drained by a minimal batched, pipelined
consumer with no logic. Nothing real can be faster on this machine; it bounds what is possible."""
from __future__ import annotations

import json
import os
import sys
import time

import redis

QUEUE = "bench:lean"
DONE = "bench:done"
_conn = None


def app(environ, start_response):
    global _conn
    if _conn is None:
        _conn = redis.Redis.from_url(os.environ["REDIS_URL"])
    if environ["REQUEST_METHOD"] == "GET":  # /healthz, and 404 for wrk's spare requests
        status = "200 OK" if environ.get("PATH_INFO") == "/healthz" else "404 Not Found"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    _conn.lpush(QUEUE, json.dumps({"t": time.time(), "b": body.decode("utf-8", "replace")}))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")])
    return [b'{"ok":true}']


def consume(batch: int = 500) -> None:
    """Pop up to `batch` messages per round trip (pipelined), record their latency, repeat."""
    conn = redis.Redis.from_url(os.environ["REDIS_URL"])
    while True:
        got = conn.brpop(QUEUE, timeout=1)
        if got is None:
            continue
        with conn.pipeline(transaction=False) as pipe:
            pipe.rpop(QUEUE, batch - 1)
            more = pipe.execute()[0] or []
        now = time.time()
        items = [got[1], *more]
        conn.rpush(DONE, *[f"{(now - json.loads(x)['t']) * 1000:.3f}" for x in items])


if __name__ == "__main__":
    sys.exit(consume())
