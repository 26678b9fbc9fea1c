"""The stock baseline: a bare Flask route that enqueues one RQ job per message, run by RQ
SimpleWorkers whose job does a trivial step. What a team gets by following RQ's README.

Also `flask_lpush`: the same bare Flask route doing one LPUSH (the ingress yardstick).
"""
from __future__ import annotations

import os
import time

import redis
from flask import Flask, request
from rq import Queue

DONE = "bench:done"  # list of "latency_ms" per finished message


def trivial_step(text: str, sent_at: float) -> int:
    """The job: a trivial step, then record when the message was finished."""
    from rq import get_current_job

    words = len(text.split())
    get_current_job().connection.rpush(DONE, f"{(time.time() - sent_at) * 1000:.3f}")
    return words


def create_app() -> Flask:
    conn = redis.Redis.from_url(os.environ["REDIS_URL"])
    queue = Queue("bench", connection=conn)
    app = Flask(__name__)

    @app.post("/hook")
    def hook():
        body = request.get_json(force=True)
        queue.enqueue(trivial_step, body["text"], time.time(), result_ttl=0)
        return {"ok": True}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/lpush")
    def lpush():
        conn.lpush("bench:flask-lpush", request.get_data())
        return {"ok": True}

    return app


app = create_app() if os.environ.get("BENCH_SYSTEM") == "baseline" else None  # gunicorn's target
