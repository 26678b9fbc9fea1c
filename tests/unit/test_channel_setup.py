"""Setting the channels up: their settings, `python -m bot telegram set-webhook`, which routes and
senders exist for which settings."""
from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings
from tests.support import webhooks as wh
from tests.support.fake_telegram import FakeTelegram
from tests.unit.test_cli import run


@pytest.mark.parametrize("env, message", [
    ({"VOICE_LANGUAGE": "english"}, "VOICE_LANGUAGE must be a language tag like en-US"),
    ({"VOICE_WAIT_SECONDS": "12"}, "VOICE_WAIT_SECONDS: Input should be less than or equal to 8"),
    ({"VOICE_WAIT_SECONDS": "0"}, "VOICE_WAIT_SECONDS: Input should be greater than 0"),
    ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL must be a http/https URL"),
])
def test_bad_channel_settings_name_themselves(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_voice_settings_default_to_us_english_and_a_three_second_bound():
    s = load_settings({})
    assert s.VOICE_LANGUAGE == "en-US" and s.VOICE_WAIT_SECONDS == 3
    assert load_settings({"VOICE_LANGUAGE": "es-MX"}).VOICE_LANGUAGE == "es-MX"


def test_routes_and_senders_exist_only_for_configured_channels(fake_redis, store):
    from bot.app import create_app
    from bot.runtime import build

    bare = build(load_settings({}), redis=fake_redis, store=store)
    rules = {r.rule for r in create_app(bare).url_map.iter_rules()}
    assert not any(r.startswith("/webhooks") for r in rules)
    assert set(bare.senders) == {"sms"}  # the embedded default's dev outbox
    full = build(load_settings(wh.channel_env()), redis=fake_redis, store=store)
    rules = {r.rule for r in create_app(full).url_map.iter_rules()}
    assert {"/webhooks/telegram", "/webhooks/twilio/messaging", "/webhooks/twilio/status", "/webhooks/twilio/voice",
            "/webhooks/twilio/voice/turn", "/webhooks/twilio/voice/wait", "/webhooks/twilio/voice/status"} <= rules
    assert {name: type(s).__name__ for name, s in full.senders.items()} == {
        "sms": "TwilioMessagingSender", "whatsapp": "TwilioMessagingSender", "telegram": "TelegramSender"}


def test_set_webhook_registers_the_public_url_with_the_secret():
    fake = FakeTelegram(wh.TG_TOKEN).start()
    try:
        res = run("telegram", "set-webhook", env={"TELEGRAM_BOT_TOKEN": wh.TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": wh.TG_SECRET,
                                                  "TELEGRAM_API_URL": fake.url + "/bot",
                                                  "PUBLIC_BASE_URL": wh.PUBLIC_BASE_URL})
        assert res.returncode == 0, res.stderr
        assert f"{wh.PUBLIC_BASE_URL}/webhooks/telegram" in res.stdout
        [call] = fake.calls("setWebhook")
        assert call.path == f"/bot{wh.TG_TOKEN}/setWebhook"
        assert call.form["url"] == f"{wh.PUBLIC_BASE_URL}/webhooks/telegram"
        assert call.form["secret_token"] == wh.TG_SECRET
        assert call.form["allowed_updates"] == '["message", "my_chat_member"]'
        assert wh.TG_SECRET not in res.stdout + res.stderr and wh.TG_TOKEN not in res.stdout + res.stderr
    finally:
        fake.stop()


def test_set_webhook_says_what_is_missing_or_what_telegram_refused():
    res = run("telegram", "set-webhook", env={"TELEGRAM_BOT_TOKEN": wh.TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": wh.TG_SECRET})
    assert res.returncode == 2 and "PUBLIC_BASE_URL" in res.stderr
    fake = FakeTelegram(wh.TG_TOKEN).start()
    fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    try:
        res = run("telegram", "set-webhook", env={"TELEGRAM_BOT_TOKEN": wh.TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": wh.TG_SECRET,
                                                  "TELEGRAM_API_URL": fake.url + "/bot", "PUBLIC_BASE_URL": "http://x.test"})
        assert res.returncode == 1 and "https url must be provided" in res.stderr.lower()
    finally:
        fake.stop()
