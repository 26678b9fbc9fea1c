"""What an attacker (or a curious customer) can reach, tried through the public routes.

`shop` is the embedded runtime with every channel switched on (Telegram, Twilio SMS, WhatsApp and
voice), its senders collecting what would be sent; `worker` processes messages in a background
thread, so /api/chat and calls answer as in production.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from channels.base import CollectingSender
from tests.conftest import API_TOKEN, OPERATOR_TOKEN
from tests.support import webhooks as wh

API = {"Authorization": f"Bearer {API_TOKEN}"}
OP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def senders():
    return {"sms": CollectingSender("sms"), "telegram": CollectingSender("telegram"),
            "whatsapp": CollectingSender("whatsapp")}


@pytest.fixture
def shop_env():
    """Extra settings for `shop` (a test may override this fixture)."""
    return {}


@pytest.fixture
def shop(fake_redis, store, senders, shop_env):
    return wh.channel_runtime(fake_redis, store, senders, **shop_env)


@pytest.fixture
def client(shop):
    from bot.app import create_app

    return create_app(shop).test_client()


@pytest.fixture
def worker(shop):
    from workers.run import InProcessWorker

    w = InProcessWorker(shop, poll=0.02).start()
    yield w
    w.stop()


def chat(client, user: str, message: str, phone: str | None = None, headers=API):
    body = {"user_id": user, "message": message, **({"phone": phone} if phone else {})}
    return client.post("/api/chat", json=body, headers=headers)


def said(client, user: str, message: str, phone: str | None = None, headers=API) -> str:
    res = chat(client, user, message, phone, headers)
    assert res.status_code == 200, res.get_json()
    return "\n".join(res.get_json()["replies"])


def register_and_order(client, user: str, phone: str | None, name: str, street: str, item: str = "a dozen eggs"):
    for line in ("hi", name, street, "1", item, "done", "yes"):
        said(client, user, line, phone)


def codes_to(shop, phone: str, at_least: int = 1, timeout: float = 5.0) -> list[str]:
    """The one-time codes texted to `phone`, oldest first (waiting, bounded, for `at_least` of them:
    the SMS leaves just after the reply that says it was sent)."""
    deadline = time.monotonic() + timeout
    while True:
        codes = [re.search(r"code is (\d{6})", t).group(1) for t in shop.senders["sms"].texts(phone) if "code is" in t]
        if len(codes) >= at_least or time.monotonic() > deadline:
            return codes
        time.sleep(0.02)


def settle(shop, timeout: float = 5.0) -> bool:
    """Until nothing waits to be processed or sent (texts leave just after the reply that says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not shop.mailboxes.pending_count() and not shop.outbox.pending():
            return True
        time.sleep(0.02)
    return False


def as_text(value) -> str:
    return json.dumps(value, default=str)
