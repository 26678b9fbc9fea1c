"""Settings are checked once, at start, with messages that name the setting."""
import pytest

from bot.config import SettingsError, load_settings

PROD = {"REDIS_URL": "redis://r:6379/0", "MONGO_URI": "mongodb://m:27017", "API_TOKEN": "a" * 20,
        "OPERATOR_TOKEN": "o" * 20}


def test_embedded_default_needs_nothing_and_invents_dev_tokens():
    s = load_settings({})
    assert s.embedded and s.API_TOKEN.startswith("dev-") and s.OPERATOR_TOKEN.startswith("op-")
    assert s.API_TOKEN != s.OPERATOR_TOKEN


def test_production_settings_load():
    s = load_settings(PROD)
    assert not s.embedded and s.IDLE_TIMEOUT_MINUTES == 30 and s.CURRENCY == "USD"


@pytest.mark.parametrize("env, message", [
    ({"REDIS_URL": "redis://r"}, "set both REDIS_URL and MONGO_URI"),
    ({**PROD, "MONGO_URI": "postgres://x"}, "MONGO_URI must be a mongodb/mongodb+srv URL"),
    ({**PROD, "API_TOKEN": "short"}, "API_TOKEN must be set to a secret of at least 16 characters"),
    ({**PROD, "PORT": "eighty"}, "PORT: Input should be a valid integer"),
    ({**PROD, "CURRENCY": "dollars"}, "CURRENCY must be an ISO 4217 code"),
    ({**PROD, "TELEGRAM_BOT_TOKEN": "1:abc"}, "TELEGRAM_WEBHOOK_SECRET is required"),
    ({**PROD, "TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_SECRET": "has space"}, "TELEGRAM_WEBHOOK_SECRET may hold only"),
    ({**PROD, "TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN is required"),
    ({**PROD, "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "PUBLIC_BASE_URL is required"),
    ({**PROD, "TWILIO_SMS_FROM": "555-1234"}, "TWILIO_SMS_FROM must be an E.164 number"),
    ({**PROD, "IDLE_TIMEOUT_MINUTES": "0"}, "IDLE_TIMEOUT_MINUTES: Input should be greater than or equal to 1"),
    ({**PROD, "GEMINI_API_URL": "ftp://x"}, "GEMINI_API_URL must be a http/https URL"),
    ({**PROD, "ADDRESS_CHECK": "loose"}, "ADDRESS_CHECK: String should match pattern '^(strict|lenient)$'"),
])
def test_bad_settings_are_named(env, message):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert message in str(err.value)


def test_empty_values_count_as_unset():
    assert load_settings({"REDIS_URL": "", "MONGO_URI": ""}).embedded


def test_whatsapp_sender_gets_its_prefix():
    s = load_settings({**PROD, "TWILIO_WHATSAPP_FROM": "+14155550000"})
    assert s.TWILIO_WHATSAPP_FROM == "whatsapp:+14155550000"


@pytest.mark.parametrize("env, message", [
    ({"OTP_ALLOWED_COUNTRIES": "CA,XX"}, "OTP_ALLOWED_COUNTRIES: 'XX' is not a country code"),
    ({"OTP_REFUSED_NUMBER_TYPES": "premium_rate,expensive"}, "unknown type 'expensive'"),
    ({"TWILIO_VERIFY_SERVICE_SID": "VA123"}, "TWILIO_VERIFY_SERVICE_SID must be a Verify service SID"),
    ({"TWILIO_VERIFY_SERVICE_SID": "VA" + "0" * 32}, "TWILIO_VERIFY_SERVICE_SID needs TWILIO_ACCOUNT_SID"),
    ({"VOICE_CALLER_ID_TRUST": "everyone"}, "VOICE_CALLER_ID_TRUST"),
    ({"OTP_MAX_SENDS_PER_IDENTITY": "0"}, "OTP_MAX_SENDS_PER_IDENTITY"),
])
def test_bad_code_and_call_settings_are_named(env, message):
    with pytest.raises(SettingsError) as err:
        load_settings({**PROD, **env})
    assert message in str(err.value)


def test_code_settings_read_lists():
    s = load_settings({**PROD, "OTP_ALLOWED_COUNTRIES": " CA, MX ", "OTP_REFUSED_NUMBER_TYPES": "none"})
    assert s.OTP_ALLOWED_COUNTRIES == ("CA", "MX") and s.OTP_REFUSED_NUMBER_TYPES == ()


SENTINEL = {**PROD, "REDIS_URL": "", "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379,10.0.0.3:26379"}


def test_sentinel_settings_load_and_wait_for_one_replica_by_default():
    s = load_settings(SENTINEL)
    assert not s.embedded and s.REDIS_SENTINEL_MASTER == "orderline"
    assert s.sentinel_addresses == [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26379)]
    assert s.REDIS_WAIT_REPLICAS == 1 and s.REDIS_FAILOVER_SECONDS == 15
    plain = load_settings(PROD)
    assert plain.REDIS_WAIT_REPLICAS == 0 and plain.REDIS_FAILOVER_SECONDS == 0  # one Redis: as before


@pytest.mark.parametrize("env, message", [
    ({**SENTINEL, "REDIS_SENTINELS": "10.0.0.1"}, "REDIS_SENTINELS must be host:port pairs"),
    ({**SENTINEL, "REDIS_SENTINELS": "a:1,b:99999"}, "REDIS_SENTINELS must be host:port pairs"),
    ({**SENTINEL, "REDIS_SENTINEL_MASTER": "my master"}, "REDIS_SENTINEL_MASTER must be a Sentinel master name"),
    ({**SENTINEL, "REDIS_WAIT_TIMEOUT_MS": "0"}, "REDIS_WAIT_TIMEOUT_MS: Input should be greater than or equal to 1"),
    ({"REDIS_WAIT_REPLICAS": "1"}, "REDIS_WAIT_REPLICAS needs a real Redis"),
    ({"REDIS_SENTINELS": "a:1"}, "only REDIS_SENTINELS is set"),
    ({"HOST": "0.0.0.0; rm"}, "HOST must be an address to listen on"),
])
def test_bad_redis_and_host_settings_are_named(env, message):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert message in str(err.value)
