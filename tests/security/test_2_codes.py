"""Item 2: SMS pumping. One identity used to send codes to 8 numbers in 8 messages, premium-rate
and foreign numbers included; the only cap was per destination. Now codes are capped per identity
across numbers, per number, and per hour for the whole shop; only allowed countries and number
types get one; each refusal is counted and shown to operators."""
from __future__ import annotations

import pytest

from statemachine import prompts
from tests.security.conftest import OP, said, settle
from tests.support import webhooks as wh

NUMBERS = [f"+1415555{i:04d}" for i in range(900, 908)]


def sms_sent(shop) -> list:
    assert settle(shop)
    return [m for m in shop.senders["sms"].sent if "code is" in m.text]


def test_one_identity_typing_eight_numbers_sends_at_most_three_codes(client, worker, shop):
    said(client, "pumper", "hi")
    answers = [said(client, "pumper", number) for number in NUMBERS]
    assert sum("6-digit code" in a for a in answers) == 3
    assert answers[3:] == [prompts.TOO_MANY_SENDS] * 5
    assert len(sms_sent(shop)) == 3
    assert said(client, "pumper", NUMBERS[0]) == prompts.TOO_MANY_SENDS  # an hour's cap, whatever is typed
    verification = client.get("/stats", headers=OP).get_json()["verification"]
    assert verification["codes_sent"] == 3 and verification["codes_refused"]["identity_cap"] == 6


def test_a_premium_rate_number_gets_a_polite_refusal_and_no_sms(client, worker, shop):
    said(client, "caller", "hi")
    assert said(client, "caller", "+1 900 234 5678") == prompts.CODE_REFUSED_TYPE
    assert said(client, "caller", "+800 1234 5678") == prompts.CODE_REFUSED_TYPE  # non-geographic freephone
    assert said(client, "caller", "+44 7400 123456") == prompts.codes_only_to("US")  # another country
    assert "6-digit code" in said(client, "caller", "+1 415 555 0911")  # a plain number still works
    assert [m.address for m in sms_sent(shop)] == ["+14155550911"]
    refused = client.get("/stats", headers=OP).get_json()["verification"]["codes_refused"]
    assert refused == {"number_type": 2, "country": 1}
    assert "orderline_codes_refused_total{reason=\"number_type\"} 2.0" in client.get("/metrics").get_data(as_text=True)


@pytest.mark.parametrize("shop_env", [{"OTP_HOURLY_BUDGET": "4"}])
def test_many_identities_cannot_exceed_the_shops_hourly_budget(client, worker, shop, shop_env):
    for i, number in enumerate(NUMBERS[:6]):
        said(client, f"bot-{i}", "hi")
        said(client, f"bot-{i}", number)
    assert len(sms_sent(shop)) <= 4
    assert client.get("/stats", headers=OP).get_json()["verification"]["codes_refused"]["budget"] == 2


def test_one_number_cannot_be_flooded_from_many_identities(client, worker, shop):
    for i in range(8):
        said(client, f"flooder-{i}", "hi")
        said(client, f"flooder-{i}", NUMBERS[0])
    assert [m.address for m in sms_sent(shop)].count(NUMBERS[0]) == 5  # OTP_MAX_SENDS_PER_NUMBER


@pytest.mark.parametrize("shop_env", [{"OTP_ALLOWED_COUNTRIES": "GB", "OTP_MAX_SENDS_PER_IDENTITY": "1"}])
def test_the_limits_are_settings(client, worker, shop, shop_env):
    said(client, "brit", "hi")
    assert "6-digit code" in said(client, "brit", "+44 7400 123456")
    assert said(client, "brit", NUMBERS[0]) == prompts.TOO_MANY_SENDS


def test_a_telegram_chat_pumping_gets_the_same_answer(client, shop):
    from tests.support.pipeline import Pipeline

    run = Pipeline(shop)
    for text in ["hi", *NUMBERS]:
        client.post("/webhooks/telegram", json=wh.tg_text(777, text), headers=wh.tg_headers())
        run.drain()
    assert len(sms_sent(shop)) == 3


@pytest.fixture(scope="module")
def verify_api():
    from tests.support.fake_verify import FakeVerify

    fake = FakeVerify(wh.TW_SID, wh.TW_TOKEN, "VA" + "ab" * 16).start()
    yield fake
    fake.stop()


def test_with_twilio_verify_the_same_caps_hold(verify_api, fake_redis, store, senders):
    from bot.app import create_app
    from workers.run import InProcessWorker

    shop = wh.channel_runtime(fake_redis, store, senders, TWILIO_VERIFY_SERVICE_SID="VA" + "ab" * 16,
                              TWILIO_API_URL=verify_api.url)
    client, worker = create_app(shop).test_client(), InProcessWorker(shop, poll=0.02).start()
    try:
        said(client, "pumper", "hi")
        answers = [said(client, "pumper", number) for number in NUMBERS]
        assert said(client, "pumper", "+1 900 234 5678") == prompts.CODE_REFUSED_TYPE
    finally:
        worker.stop()
    assert sum("6-digit code" in a for a in answers) == 3 and verify_api.sends() == 3
    assert shop.senders["sms"].sent == []  # Verify texted them, not the shop's sender
