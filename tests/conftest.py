"""Fixtures, from the inside out: settings -> runtime (fakeredis + mongomock) -> app -> client,
and for integration: a real redis-server, a MongoDB wire server, real worker processes."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import fakeredis
import mongomock
import pytest

from bot.config import load_settings
from bot.runtime import build
from bot.store import Store
from channels.base import CollectingSender
from channels.dev_sms import DevOutboxSender

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "test-api-token-0123456789"
OPERATOR_TOKEN = "test-operator-token-0123456789"
ARTIFACTS = ROOT / "test-artifacts"
PLAIN_SHOP = str(ROOT / "tests" / "support" / "shop_plain.yaml")  # no fees, slots or hours: the other tests' shop
SAMPLE_SHOP = str(ROOT / "bot" / "data" / "shop.yaml")


@pytest.fixture
def settings():
    # no quiet hours: a test's outcome must not depend on the time of day it runs (tests set them)
    return load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, SHOP_FILE=PLAIN_SHOP,
                         QUIET_HOURS="off")


@pytest.fixture
def fake_redis():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


@pytest.fixture
def store():
    return Store(mongomock.MongoClient()["orderline_test"])


@pytest.fixture
def senders(fake_redis):
    return {"sms": DevOutboxSender(fake_redis), "telegram": CollectingSender("telegram"),
            "whatsapp": CollectingSender("whatsapp")}


@pytest.fixture
def rt(settings, fake_redis, store, senders):
    """The embedded runtime with the sample catalog: unit and adapter tests run on this."""
    return build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)


@pytest.fixture
def app(rt):
    from bot.app import create_app

    return create_app(rt)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def pipeline(rt):
    from tests.support.pipeline import Pipeline

    return Pipeline(rt)


# -- integration: real redis-server, shared MongoDB (wire server), real worker processes ---------

@pytest.fixture(scope="session")
def redis_server():
    from tests.support.redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_server():
    from tests.support.mongo_wire import MongoWireServer

    server = MongoWireServer().start()
    yield server
    server.stop()


def live_env(redis_server, mongo_server, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_", "GEMINI_", "STRIPE_"))}
    env.update(REDIS_URL=redis_server.url, MONGO_URI=mongo_server.uri, MONGO_DB="orderline_it",
               API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, PYTHONPATH=str(ROOT), SHOP_FILE=PLAIN_SHOP,
               QUIET_HOURS="off")
    env.update(extra)
    return env


class WorkerProcesses:
    """Real `python -m tests.support.worker_proc` processes against the shared services."""

    def __init__(self, env: dict, count: int, scheduler_on_first: bool = True, label: str = "worker"):
        self.env, self.count, self.scheduler_on_first, self.label = env, count, scheduler_on_first, label
        self.procs: list[subprocess.Popen] = []
        ARTIFACTS.mkdir(exist_ok=True)

    def start_one(self, i: int) -> subprocess.Popen:
        env = dict(self.env, TEST_WORKER_NAME=f"it-worker-{os.getpid()}-{i}-{time.time_ns()}",
                   TEST_WORKER_SCHEDULER="1" if (i == 0 and self.scheduler_on_first) else "0")
        log = open(ARTIFACTS / f"{self.label}-{i}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.worker_proc"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        return proc

    def start(self) -> WorkerProcesses:
        self.procs = [self.start_one(i) for i in range(self.count)]
        return self

    def stop(self) -> None:
        from tests.support.processes import stop

        stop(self.procs)


@pytest.fixture(scope="session")
def fake_channels():
    """A fake Telegram Bot API and a fake Twilio REST API, served by this process for the session."""
    from tests.support import webhooks as wh
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.fake_twilio import FakeTwilio

    telegram, twilio = FakeTelegram(wh.TG_TOKEN).start(), FakeTwilio(wh.TW_SID, wh.TW_TOKEN).start()
    yield telegram, twilio
    telegram.stop()
    twilio.stop()


@pytest.fixture(scope="session")
def fake_stripe_api():
    """A fake of Stripe's API for the session's stacks (tests/support/fake_stripe.py)."""
    from tests.support.fake_stripe import TEST_KEY, TEST_WEBHOOK_SECRET, FakeStripe

    fake = FakeStripe(TEST_KEY, TEST_WEBHOOK_SECRET).start()
    yield fake
    fake.stop()


def own_shop_file(tmp_path_factory, name: str) -> str:
    """A stack's own copy of the plain shop file, which its scenarios may rewrite (Live.use_shop)."""
    import shutil

    path = tmp_path_factory.mktemp("shop") / f"{name}.yaml"
    shutil.copy(PLAIN_SHOP, path)
    return str(path)


@pytest.fixture(scope="session")
def live(redis_server, mongo_server, fake_channels, fake_stripe_api, tmp_path_factory):
    """A production-shaped stack: this process serves HTTP; two worker processes do the work and send
    through the real Telegram, Twilio and Stripe SDKs, pointed at the fake APIs (TELEGRAM_API_URL,
    TWILIO_API_URL, STRIPE_API_URL). Its shop file is its own copy: a scenario may set the rules."""
    from bot.app import create_app
    from tests.support import webhooks as wh
    from tests.support.fake_stripe import TEST_KEY, TEST_WEBHOOK_SECRET
    from tests.support.live import Live

    telegram, twilio = fake_channels
    env = live_env(redis_server, mongo_server, **wh.channel_env(
        TELEGRAM_API_URL=telegram.url + "/bot", TWILIO_API_URL=twilio.url, VOICE_WAIT_SECONDS="2"),
        STRIPE_SECRET_KEY=TEST_KEY, STRIPE_WEBHOOK_SECRET=TEST_WEBHOOK_SECRET, STRIPE_API_URL=fake_stripe_api.url,
        SHOP_FILE=own_shop_file(tmp_path_factory, "live"))
    settings = load_settings(env)
    rt = build(settings, load_sample=True)
    workers = WorkerProcesses(env, count=2).start()
    app = create_app(rt)
    yield Live(rt=rt, client=app.test_client(), workers=workers, env=env, telegram=telegram, twilio=twilio,
               stripe=fake_stripe_api)
    workers.stop()


# -- Gemini: the real SDK against a local fake of generateContent (tests/support/fake_gemini.py) --

GEMINI_KEY = "test-gemini-key-0123456789"


@pytest.fixture(scope="session")
def gemini_server():
    from tests.support.fake_gemini import FakeGemini

    fake = FakeGemini(api_key=GEMINI_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_gemini(gemini_server):
    """The session's fake, emptied of scripts and failure modes, and up (a test may stop it)."""
    gemini_server.reset()
    if gemini_server.server is None:
        gemini_server.start()
    yield gemini_server
    gemini_server.reset()
    if gemini_server.server is None:
        gemini_server.start()


@pytest.fixture
def gemini_settings(fake_gemini):
    return load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, GEMINI_API_KEY=GEMINI_KEY,
                         GEMINI_API_URL=fake_gemini.url, GEMINI_TIMEOUT_SECONDS=1, GEMINI_BREAKER_FAILURES=3,
                         SHOP_FILE=PLAIN_SHOP)


@pytest.fixture
def gemini_rt(gemini_settings, fake_redis, store, senders):
    """The embedded runtime with Gemini on, pointed at the fake."""
    return build(gemini_settings, redis=fake_redis, store=store, senders=senders, load_sample=True)


@pytest.fixture
def gemini_pipeline(gemini_rt):
    from tests.support.pipeline import Pipeline

    return Pipeline(gemini_rt)


@pytest.fixture(scope="session")
def live_gemini(redis_server, mongo_server, gemini_server, tmp_path_factory):
    """The production-shaped stack with Gemini on (the fake), beside `live`: its own Redis database
    (so its own queues and workers) and MongoDB database, two worker processes of its own."""
    from bot.app import create_app
    from tests.support.live import Live

    env = live_env(redis_server, mongo_server, GEMINI_API_KEY=GEMINI_KEY, GEMINI_API_URL=gemini_server.url,
                   GEMINI_TIMEOUT_SECONDS="1", GEMINI_BREAKER_FAILURES="3",
                   SHOP_FILE=own_shop_file(tmp_path_factory, "live-gemini"))
    env.update(REDIS_URL=redis_server.url.rsplit("/", 1)[0] + "/1", MONGO_DB="orderline_it_gemini")
    settings = load_settings(env)
    rt = build(settings, load_sample=True)
    workers = WorkerProcesses(env, count=2, label="gemini-worker").start()
    app = create_app(rt)
    yield Live(rt=rt, client=app.test_client(), workers=workers, env=env, gemini=gemini_server)
    workers.stop()
