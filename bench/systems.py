"""The systems under test: the stock RQ baseline, the lean limit, bare Flask+LPUSH, Orderline."""
from __future__ import annotations

import os
import sys
import time

from bench import generate
from bench.harness import ROOT, gunicorn

PY = sys.executable
ACCOUNT_SID, AUTH_TOKEN = "AC" + "0" * 32, "bench-auth-token"


class System:
    """One system under test: how to start it, what to send, how to count what it finished."""

    name = ""
    key = ""
    path = "/"
    workers_cmd: list[str] | None = None
    e2e = True

    def __init__(self, bench):  # bench.run.Bench: its redis, args and MongoDB stand-in
        self.bench = bench

    def env(self) -> dict:
        return {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": self.bench.redis.url, "BENCH_SYSTEM": self.key}

    def web_cmd(self, port: int) -> list[str]:
        raise NotImplementedError

    def requests(self, count: int, **_) -> list[str]:
        return generate.simple_json(self.path, count)

    def prepare(self) -> None:
        """Seed whatever the system needs before the measured load."""

    def done_count(self, r) -> int:
        return int(r.llen("bench:done"))

    def latencies(self, r) -> list[float]:
        return [float(x) for x in r.lrange("bench:done", 0, -1)]


class Baseline(System):
    name, key, path = "stock baseline (Flask + 1 RQ job/message)", "baseline", "/hook"

    def web_cmd(self, port):
        return gunicorn(port, "bench.baseline:app", self.bench.args.web)

    @property
    def workers_cmd(self):
        return [PY, "-m", "rq.cli", "worker", "--worker-class", "rq.worker.SimpleWorker", "--url",
                self.bench.redis.url, "--quiet", "bench"]


class Lean(System):
    name, key, path = "lean limit (WSGI LPUSH + batched consumer)", "lean", "/"

    def web_cmd(self, port):
        return gunicorn(port, "bench.lean:app", self.bench.args.web)

    @property
    def workers_cmd(self):
        return [PY, "-m", "bench.lean"]


class FlaskLpush(System):
    name, key, path, e2e = "bare Flask + LPUSH (ingress only)", "baseline", "/lpush", False

    def web_cmd(self, port):
        return gunicorn(port, "bench.baseline:app", self.bench.args.web)


class Orderline(System):
    """The real app under gunicorn, real worker processes, a shared MongoDB (the wire server over
    mongomock: no MongoDB server can run here), signed Twilio webhooks from many customers."""

    name, key = "Orderline (signed webhooks, whole pipeline)", "orderline"
    path = "/webhooks/twilio/messaging"
    public = "https://bench.orderline.test"
    passes = ("ingress", "saturation", "paced")

    def __init__(self, bench):
        super().__init__(bench)
        self.db = ""

    def env(self):
        return {**super().env(), "MONGO_URI": self.bench.mongo_uri, "MONGO_DB": self.db,
                "API_TOKEN": "bench-api-token-0123456789", "OPERATOR_TOKEN": "bench-operator-token-0123456789",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_SMS_FROM": generate.SHOP_NUMBER, "TWILIO_WHATSAPP_FROM": generate.SHOP_NUMBER,
                "PUBLIC_BASE_URL": self.public, "LOG_LEVEL": "WARNING", "SAMPLE_CATALOG": "true",
                "RATE_LIMIT_PER_MINUTE": "600",
                # the recorded runs had no shop rules: keep measuring the same conversation (no minimum or slots)
                "SHOP_FILE": str(ROOT / "tests" / "support" / "shop_plain.yaml")}

    def web_cmd(self, port):
        return gunicorn(port, "bot.wsgi:app", self.bench.args.web)

    @property
    def workers_cmd(self):
        return [PY, "-m", "bench.worker"]

    def requests(self, count, customers: int | None = None):
        return generate.twilio_messages(count, customers or self.bench.args.customers, self.public, AUTH_TOKEN,
                                        ACCOUNT_SID)

    def prepare(self):
        """A fresh database with the sample catalog (plenty of stock) and the customers registered."""
        self.db = f"bench_{int(time.time() * 1000)}"
        self.seed(range(self.bench.args.customers))

    def seed(self, customers) -> None:
        """The sample catalog with plenty of stock, and these customers registered, in `self.db`."""
        from bot.config import load_settings
        from bot.shop.catalog_import import load_sample_catalog
        from bot.store import connect

        store = connect(load_settings(self.env()))
        store.ensure_indexes()
        products = load_sample_catalog()
        store.products.upsert_many(products)
        for p in products:
            store.products.update(p.sku, stock=10_000_000)
        for i in customers:
            store.customers.save(generate.customer_phone(i), f"Customer {i}", f"{i} Bench Street, Springfield")

    def voice_turns(self, port: int, calls: int = 20, turns: int = 6) -> list[float]:
        """Milliseconds per voice turn (webhook in -> TwiML out), calls after one another."""
        import requests as http
        from twilio.request_validator import RequestValidator

        validator, session, out = RequestValidator(AUTH_TOKEN), http.Session(), []
        lines = ("1", "2 kg of apples", "a dozen eggs", "cart", "menu", "2")
        for c in range(calls):
            call, caller = "CA" + os.urandom(16).hex(), generate.customer_phone(c)
            for n in range(turns + 1):
                path = "/webhooks/twilio/voice" + (f"/turn?n={n}" if n else "")
                params = {"CallSid": call, "AccountSid": ACCOUNT_SID, "From": caller, "To": generate.SHOP_NUMBER,
                          "CallStatus": "in-progress"}
                if n:
                    params.update(SpeechResult=lines[(n - 1) % len(lines)], Confidence="0.9")
                headers = {"X-Twilio-Signature": validator.compute_signature(self.public + path, params)}
                t = time.perf_counter()
                res = session.post(f"http://127.0.0.1:{port}{path}", data=params, headers=headers, timeout=15)
                elapsed = (time.perf_counter() - t) * 1000
                if res.status_code != 200 or "<Say" not in res.text:
                    raise RuntimeError(f"voice turn answered {res.status_code}: {res.text[:200]}")
                if n:
                    out.append(elapsed)
        return out


class OrderlineLocalStore(Orderline):
    """Diagnostic, not a result: each worker on its own in-process mongomock, seeded alike (the
    stores are not shared: not a correct deployment). It shows what the pipeline costs without the
    MongoDB stand-in (mongomock behind a single-threaded Python wire server)."""

    name, key = "diagnostic: Orderline, workers on in-process stores", "orderline-local"
    passes = ("saturation",)

    def env(self):
        return {**super().env(), "BENCH_LOCAL_STORE": "1", "BENCH_CUSTOMERS": str(self.bench.args.customers)}
