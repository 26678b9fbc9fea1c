"""Item 4: dead letters never keep a one-time code, go with the customer who asked to be forgotten,
are capped and expire; and a shop that cannot send codes says so at the start instead of parking
every code as a dead letter."""
from __future__ import annotations

import logging
import re
import time

import pytest

import workers.drain
from bot.common.errors import PermanentSendError
from bot.pipeline import deadletters
from bot.pipeline import keys as pkeys
from channels.base import CollectingSender
from tests.security.conftest import OP, as_text
from tests.support import webhooks as wh
from tests.support.operators import RefusingOnce
from tests.support.pipeline import Pipeline
from tests.support.redis_traces import everything_in_redis
from workers import maintenance

PHONE, NATIONAL = "+14155550404", "4155550404"
CHAT = 4040404


class RefusingSms(CollectingSender):
    """An SMS sender whose provider refuses every message (an unverified trial number, say)."""

    def send(self, message, part_sent=None):
        self.sent.append(message)  # what it was asked to send (tests read the code from it)
        raise PermanentSendError("Twilio 400 error 21608: the number is unverified")


def telegram(client, text: str, chat: int = CHAT):
    assert client.post("/webhooks/telegram", json=wh.tg_text(chat, text), headers=wh.tg_headers()).status_code == 200


@pytest.fixture
def run(shop):
    return Pipeline(shop)


@pytest.mark.parametrize("senders", [{"sms": RefusingSms("sms"), "telegram": CollectingSender("telegram"),
                                      "whatsapp": CollectingSender("whatsapp")}])
def test_a_code_never_reaches_a_dead_letter(client, shop, run, senders, monkeypatch):
    telegram(client, "hi")
    telegram(client, PHONE)
    run.drain()
    [entry] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert entry["text"] == deadletters.REDACTED and not entry["retryable"]
    code = re.search(r"code is (\d{6})", senders["sms"].sent[0].text).group(1)
    raw = str(shop.redis.hgetall(pkeys.DEAD))
    assert "code is" not in raw and code not in raw
    assert client.post(f"/api/deadletters/{entry['id']}/retry", headers=OP).status_code == 409

    # the customer types a code back and that message keeps failing: parked without its digits
    monkeypatch.setattr(workers.drain, "MAX_BUG_ATTEMPTS", 1)
    monkeypatch.setattr(run.step, "turn", lambda *a, **k: {}["a bug"])
    telegram(client, "493817")
    run.drain()
    items = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert len(items) == 2 and "493817" not in str(shop.redis.hgetall(pkeys.DEAD))


def test_a_code_that_twilio_reports_undelivered_cannot_be_resent(client, shop, run):
    telegram(client, "hi")
    telegram(client, PHONE)
    run.drain()
    [sent] = [m for m in shop.senders["sms"].sent if m.address == PHONE]
    params = wh.message_status(wh.sid("SM"), PHONE, "undelivered", "30003")
    assert wh.twilio_post(client, "/webhooks/twilio/status", params, query={"r": sent.reply_id}).status_code == 204
    [entry] = client.get("/api/deadletters", headers=OP).get_json()["items"]
    assert not entry["retryable"] and client.post(f"/api/deadletters/{entry['id']}/retry", headers=OP).status_code == 409


@pytest.mark.parametrize("senders", [{"sms": CollectingSender("sms"), "telegram": RefusingOnce("telegram", str(CHAT)),
                                      "whatsapp": CollectingSender("whatsapp")}])
def test_after_delete_my_data_nothing_holds_the_number(client, shop, run, senders, caplog):
    caplog.set_level(logging.DEBUG)
    telegram(client, "hi")  # its reply is refused once: a dead letter for this chat
    telegram(client, PHONE)
    run.drain()
    code = re.search(r"code is (\d{6})", shop.senders["sms"].texts(PHONE)[-1]).group(1)
    for line in (code, "Ana Lima", "12 Main Street, Springfield", "1", "a dozen eggs", "done", "yes"):
        telegram(client, line)
        run.drain()
    # a text to their number that Twilio could not deliver: a dead letter naming it
    params = wh.message_status(wh.sid("SM"), PHONE, "undelivered", "30005")
    wh.twilio_post(client, "/webhooks/twilio/status", params, query={"r": "sms:SMx:0"})
    assert len(client.get("/api/deadletters", headers=OP).get_json()["items"]) == 2
    assert client.get(f"/api/customers/{PHONE}/export", headers=OP).status_code == 200
    assert NATIONAL in everything_in_redis(shop.redis)  # (its link, its conversation, its dead letter)

    for line in ("menu", "delete my data", "yes"):
        telegram(client, line)
        run.drain()
    run.deliver()
    assert "Everything we held about you is deleted" in shop.senders["telegram"].texts(str(CHAT))[-1]
    held = everything_in_redis(shop.redis)
    assert NATIONAL not in held and str(CHAT) not in held.replace("telegram:blocked", "")
    assert client.get("/api/deadletters", headers=OP).get_json()["items"] == []
    assert client.get(f"/api/customers/{PHONE}/export", headers=OP).status_code == 404
    store = as_text([list(shop.store.db[c].find()) for c in ("customers", "messages", "conversations", "orders")])
    assert NATIONAL not in store
    assert [r.getMessage() for r in caplog.records if NATIONAL in r.getMessage()] == []


def test_dead_letters_are_capped_and_expire(client, shop, monkeypatch):
    shop.settings.DEAD_LETTER_MAX, shop.settings.DEAD_LETTER_DAYS = 100, 2
    for i in range(130):  # Twilio reports 130 texts undelivered
        wh.twilio_post(client, "/webhooks/twilio/status", wh.message_status(wh.sid("SM"), f"+1415555{1000 + i}",
                                                                             "failed", "30006"))
    assert client.get("/api/deadletters?limit=1000", headers=OP).get_json()["waiting"] == 130
    maintenance.sweep_once(shop)
    listed = client.get("/api/deadletters?limit=1000", headers=OP).get_json()
    assert listed["waiting"] == 100 and {i["to"][-4:] for i in listed["items"]} == {str(1030 + i) for i in range(100)}
    later = time.time() + 2 * 86400 + 60
    monkeypatch.setattr(time, "time", lambda: later)
    maintenance.sweep_once(shop)
    assert client.get("/api/deadletters", headers=OP).get_json() == {"waiting": 0, "items": []}


@pytest.mark.parametrize("shop_env", [{"TWILIO_SMS_FROM": ""}])
@pytest.mark.parametrize("senders", [{"telegram": CollectingSender("telegram"), "whatsapp": CollectingSender("whatsapp")}])
def test_without_an_sms_sender_typed_numbers_are_refused_at_the_start(fake_redis, store, senders, shop_env, caplog):
    caplog.set_level(logging.WARNING, logger="orderline.otp")
    shop = wh.channel_runtime(fake_redis, store, senders, **shop_env)
    assert any("cannot verify a typed phone number" in r.getMessage() for r in caplog.records)
    from bot.app import create_app

    client, run = create_app(shop).test_client(), Pipeline(shop)
    telegram(client, "hi")
    run.drain()
    [greeting] = senders["telegram"].sent
    assert "confirms numbers only by sharing it with the button in Telegram or writing to us from it on WhatsApp" \
        in greeting.text and greeting.request_phone
    telegram(client, PHONE)
    run.drain()
    assert "can't check a number typed here" in senders["telegram"].sent[-1].text
    assert shop.deadletters.count() == 0 and shop.redis.keys("ol:otp:*") == []
