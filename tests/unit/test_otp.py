"""One-time codes through the whole pipeline: the shop's policy (bot/customers/codes.py) and the Twilio Verify
backend, with the real SDK against a strict fake of the Verify API (tests/support/fake_verify.py)."""
from __future__ import annotations

import pytest

from bot.common import redis_keys
from bot.config import load_settings
from bot.customers import codes as otp
from bot.pipeline import keys as pkeys
from statemachine import prompts
from tests.support import webhooks as wh
from tests.support.fake_verify import FakeVerify
from tests.support.pipeline import Pipeline

VA = "VA" + "0123456789abcdef" * 2


def sent_to(rt, phone: str) -> int:
    return sum(1 for e in rt.senders["sms"].recent(limit=200) if e["to"] == phone)


@pytest.mark.parametrize("phone, reason", [
    ("+14155552671", None),  # a US mobile or landline: DEFAULT_REGION
    ("+19002345678", "number_type"),  # US premium-rate
    ("+80012345678", "number_type"),  # international freephone: non-geographic
    ("+447700900123", "country"),  # not a valid number anywhere: no region
    ("+33612345678", "country"),  # France is not allowed by default
    ("+33884012345", "country"),
])
def test_who_may_be_sent_a_code(phone, reason):
    assert otp.number_refusal(load_settings({}), phone) == reason


def test_allowed_countries_and_refused_types_are_settings():
    s = load_settings({}, OTP_ALLOWED_COUNTRIES="FR,DE", OTP_REFUSED_NUMBER_TYPES="premium_rate,shared_cost")
    assert otp.number_refusal(s, "+33612345678") is None
    assert otp.number_refusal(s, "+33884012345") == "number_type"  # French shared-cost
    assert otp.number_refusal(s, "+80012345678") == "country"  # non-geographic allowed as a type: still no country
    assert otp.number_refusal(load_settings({}, OTP_REFUSED_NUMBER_TYPES="none"), "+19002345678") is None


def test_caps_are_never_exceeded_and_refusals_give_the_count_back(rt):
    codes = rt.codes
    got = [codes.send(f"+1415555{2600 + i}", "123456", "telegram:1", f"r{i}", now=1000.0) for i in range(5)]
    assert [g.sent for g in got] == [True, True, True, False, False]
    assert {g.reason for g in got[3:]} == {"identity_cap"}
    assert int(rt.redis.get(redis_keys.otp_asks("telegram:1"))) == 3  # the refused asks were given back
    many = [codes.send("+14155552699", "123456", f"telegram:{i}", f"s{i}", now=1000.0) for i in range(7)]
    assert sum(m.sent for m in many) == 5 and many[-1].reason == "number_cap"


def test_the_hourly_budget_holds_for_the_whole_shop(fake_redis, store, senders):
    from bot.runtime import build
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN, PLAIN_SHOP

    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, SHOP_FILE=PLAIN_SHOP,
                             OTP_HOURLY_BUDGET=4)
    rt = build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)
    results = [rt.codes.send(f"+1415555{2600 + i}", "1", f"api:u{i}", "r", now=7200.0) for i in range(6)]
    assert [r.sent for r in results] == [True] * 4 + [False] * 2 and results[-1].reason == "budget"
    assert rt.codes.send("+14155552700", "1", "api:x", "r", now=7200.0 + 3600).sent  # the next clock hour


def test_no_otp_key_names_a_phone_or_a_sender(pipeline, rt):
    pipeline.say("hi", user="zed")
    pipeline.say("+14155552671", user="zed")
    for _ in range(5):
        pipeline.say("000000", user="zed")
    names = [k.decode() for k in rt.redis.keys("ol:otp:*")]
    assert names and not any("4155552671" in n or "zed" in n for n in names)
    assert otp.lock_seconds(rt.redis, "+14155552671") > 0


# -- Twilio Verify ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def verify_api():
    fake = FakeVerify(wh.TW_SID, wh.TW_TOKEN, VA).start()
    yield fake
    fake.stop()


@pytest.fixture
def verify(verify_api, fake_redis, store, senders):
    verify_api.reset()
    rt = wh.channel_runtime(fake_redis, store, senders, TWILIO_VERIFY_SERVICE_SID=VA, TWILIO_API_URL=verify_api.url,
                            OTP_TTL_SECONDS="900")
    return verify_api, Pipeline(rt)


def test_verify_sends_and_checks_the_code_and_nothing_of_it_stays_here(verify):
    fake, pipeline = verify
    rt = pipeline.rt
    pipeline.say("hi", user="ana")
    assert "6-digit code" in pipeline.texts("+14155552671", user="ana")
    code = fake.code_for("+14155552671")
    assert code and sent_to(rt, "+14155552671") == 0  # Verify texted it, not the shop's SMS sender
    held = str([rt.redis.dump(k) for k in rt.redis.keys("*")]) + str(list(rt.store.messages.col.find()))
    assert code not in held  # until the customer types it, only Verify knows it
    assert "4 tries left" in pipeline.texts("000000", user="ana")
    assert "What's your name?" in pipeline.texts(code, user="ana")
    checks = [r for r in fake.snapshot() if r.path.endswith("/VerificationCheck")]
    assert [r.form["Code"] for r in checks] == ["000000", code] and checks[0].form["To"] == "+14155552671"


def test_verify_reuses_a_pending_verification_on_resend(verify):
    fake, pipeline = verify
    pipeline.say("hi", user="bo")
    pipeline.say("+14155552672", user="bo")
    first = fake.code_for("+14155552672")
    assert "6-digit code" in pipeline.texts("resend", user="bo")
    assert fake.code_for("+14155552672") == first and fake.sends("+14155552672") == 2


@pytest.mark.parametrize("arrange, said", [
    (lambda fake: fake.block("+14155552673"), prompts.CODE_NOT_SENT),  # Verify's fraud guard (60410)
    (lambda fake: fake.fail_next(503, 20500, "Internal Server Error"), prompts.CODES_UNAVAILABLE),
])
def test_verify_refusals_are_polite_and_cost_nothing(verify, arrange, said):
    fake, pipeline = verify
    arrange(fake)
    pipeline.say("hi", user="cy")
    assert pipeline.texts("+14155552673", user="cy") == said
    assert pipeline.conversation("id:api:cy")["step"] == "phone"
    assert int(pipeline.rt.redis.get(redis_keys.otp_asks("api:cy")) or 0) == 0
    assert pipeline.rt.redis.hget(pkeys.STATS, "codes_refused:" + ("rejected" if said == prompts.CODE_NOT_SENT
                                                                  else "unavailable")) == b"1"


def test_verify_expiry_and_its_check_limit(verify):
    fake, pipeline = verify
    pipeline.say("hi", user="di")
    pipeline.say("+14155552674", user="di")
    fake.advance(601)  # Verify's 10 minutes (our own expiry here is 15)
    assert pipeline.texts(fake.code_for("+14155552674"), user="di") == prompts.CODE_EXPIRED
    fake.advance(-601)
    pipeline.say("resend", user="di")
    fake.verifications[next(iter(v for v in fake.verifications if fake.verifications[v]["status"] == "pending"))][
        "checks"] = 5  # Verify's own 5 checks used up elsewhere
    assert "locked" in pipeline.texts("123123", user="di")


def test_a_landline_gets_no_sms_from_verify(verify):
    fake, pipeline = verify
    pipeline.rt.settings.OTP_ALLOWED_COUNTRIES = ("GB",)
    pipeline.say("hi", user="ed")
    assert pipeline.texts("+441234567890", user="ed") == prompts.CODE_NOT_SENT  # a British landline: 60205
    assert fake.sends() == 0


def test_the_fake_is_as_strict_as_verify(verify_api):
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client

    from channels.twilio_common import BaseUrlHttpClient

    client = Client(wh.TW_SID, wh.TW_TOKEN, http_client=BaseUrlHttpClient(verify_api.url))
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verifications.create(to="4155552671", channel="sms")
    assert (err.value.status, err.value.code) == (400, 60200)
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verifications.create(to="+14155552671", channel="pigeon")
    assert err.value.code == 60200
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verification_checks.create(to="+14155552671", code="123456")
    assert (err.value.status, err.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services("VA" + "f" * 32).verifications.create(to="+14155552671", channel="sms")
    assert err.value.status == 404
    with pytest.raises(TwilioRestException) as err:
        Client(wh.TW_SID, "wrong", http_client=BaseUrlHttpClient(verify_api.url)).verify.v2.services(
            VA).verifications.create(to="+14155552671", channel="sms")
    assert (err.value.status, err.value.code) == (401, 20003)
    v = client.verify.v2.services(VA).verifications.create(to="+14155552671", channel="sms")
    assert v.status == "pending" and v.sid.startswith("VE") and v.to == "+14155552671"
    for _ in range(4):
        client.verify.v2.services(VA).verifications.create(to="+14155552671", channel="sms")
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verifications.create(to="+14155552671", channel="sms")
    assert (err.value.status, err.value.code) == (429, 60203)
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verification_checks.create(to="+14155552671", code="12")
    assert err.value.code == 60200
    for _ in range(5):
        assert client.verify.v2.services(VA).verification_checks.create(to="+14155552671", code="000000").status \
            == "pending"
    with pytest.raises(TwilioRestException) as err:
        client.verify.v2.services(VA).verification_checks.create(to="+14155552671", code="000000")
    assert (err.value.status, err.value.code) == (429, 60202)


def test_requests_at_the_same_moment_never_exceed_a_cap(redis_server):
    """Twenty asks from one sender at once, on a real redis-server: at most three codes go out."""
    import threading

    import mongomock
    import redis as redis_lib

    from bot.runtime import build
    from bot.store import Store
    from channels.base import CollectingSender
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN, PLAIN_SHOP

    client = redis_lib.Redis.from_url(redis_server.url.rsplit("/", 1)[0] + "/5")
    client.flushdb()
    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, SHOP_FILE=PLAIN_SHOP)
    rt = build(settings, redis=client, store=Store(mongomock.MongoClient()["otp_race"]),
               senders={"sms": CollectingSender("sms")}, load_sample=False)
    start, results = threading.Barrier(20), []

    def ask(i):
        start.wait()
        results.append(rt.codes.send(f"+1415555{3000 + i}", "123456", "telegram:racer", f"r{i}"))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= sum(r.sent for r in results) <= 3
    assert int(client.get(redis_keys.otp_asks("telegram:racer"))) == sum(r.sent for r in results)
    client.flushdb()
