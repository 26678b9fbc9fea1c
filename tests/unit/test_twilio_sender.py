"""The SMS and WhatsApp senders: the real twilio.rest.Client, pointed at a fake Twilio REST API
through TWILIO_API_URL. Asserts the exact requests (path, basic auth, To/From/Body/StatusCallback)
and how Twilio's refusals become retry-or-park errors."""
from __future__ import annotations

import json
import time

import pytest

from bot.common import redis_keys
from bot.common.errors import PermanentSendError, RecipientUnreachable, TransientSendError
from bot.config import load_settings
from bot.pipeline import OutboundMessage
from bot.pipeline import keys as pkeys
from channels import sms_text
from channels.twilio_messaging import build_senders
from tests.support import webhooks as wh
from tests.support.fake_twilio import FakeTwilio

PHONE = "+14155552671"


@pytest.fixture(scope="module")
def fake():
    server = FakeTwilio(wh.TW_SID, wh.TW_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def senders(fake, fake_redis):
    fake.clear()
    settings = load_settings(wh.channel_env(TWILIO_API_URL=fake.url))
    return build_senders(settings, fake_redis)


def out(channel: str, text: str = "Hi! Welcome to Orderline Grocery.", to: str = PHONE) -> OutboundMessage:
    return OutboundMessage(channel=channel, address=to, text=text, reply_id="m:0")


def test_an_sms_reply_is_one_messages_create_call_with_basic_auth(senders, fake):
    senders["sms"].send(out("sms"))
    [req] = fake.snapshot()
    assert req.method == "POST" and req.path == f"/2010-04-01/Accounts/{wh.TW_SID}/Messages.json"
    assert req.basic_auth == (wh.TW_SID, wh.TW_TOKEN)
    assert req.form == {"To": PHONE, "From": wh.SMS_FROM, "Body": "Hi! Welcome to Orderline Grocery.",
                        "StatusCallback": wh.PUBLIC_BASE_URL + "/webhooks/twilio/status?r=m%3A0"}


def customer_wrote(redis, fake, phone: str = PHONE, hours_ago: float = 0) -> None:
    """The customer wrote on WhatsApp `hours_ago`: as ingress records it, and as Twilio knows it."""
    at = time.time() - hours_ago * 3600
    redis.set(pkeys.identity(f"whatsapp:{phone}").seen, int(at * 1000))
    fake.wrote(f"whatsapp:{phone}", at)


def test_a_whatsapp_reply_goes_from_and_to_whatsapp_addresses(senders, fake, fake_redis):
    customer_wrote(fake_redis, fake)
    senders["whatsapp"].send(out("whatsapp", "Your cart:\n• 2 kg × Apples — $5.98"))
    [sent] = fake.messages()
    assert sent["To"] == f"whatsapp:{PHONE}" and sent["From"] == f"whatsapp:{wh.WA_FROM}"
    assert sent["Body"] == "Your cart:\n• 2 kg × Apples — $5.98"  # WhatsApp has no segments to save
    assert sent["status"] == "delivered" and "ContentSid" not in sent


def update(to: str = PHONE, purpose: str = "order_update") -> OutboundMessage:
    return OutboundMessage(channel="whatsapp", address=to, text="Update: order #1002 is on its way to you.",
                           reply_id="order:o1:out_for_delivery", template=purpose,
                           variables={"1": "1002", "2": "is on its way to you"})


def test_outside_the_window_a_message_the_shop_sends_first_goes_as_its_approved_template(fake, fake_redis):
    fake.clear()
    sender = build_senders(load_settings(wh.channel_env(TWILIO_API_URL=fake.url)), fake_redis)["whatsapp"]
    customer_wrote(fake_redis, fake, hours_ago=25)
    sender.send(update())
    [sent] = fake.messages()
    assert sent["ContentSid"] == wh.TEMPLATE_ORDER_UPDATE and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "1002", "2": "is on its way to you"}
    assert sent["status"] == "delivered" and sent["rendered"] == "Update: order #1002 is on its way to you."
    assert int(fake_redis.hget(redis_keys.STATS, "whatsapp_templates:order_update")) == 1
    customer_wrote(fake_redis, fake, hours_ago=1)  # inside the window: the same message goes as text
    sender.send(update())
    assert fake.messages()[-1]["Body"] == "Update: order #1002 is on its way to you."
    assert "ContentSid" not in fake.messages()[-1] and fake.messages()[-1]["status"] == "delivered"


def test_outside_the_window_without_a_template_nothing_is_sent_and_the_reason_is_clear(fake, fake_redis):
    fake.clear()
    settings = load_settings(wh.channel_env(TWILIO_API_URL=fake.url, WHATSAPP_TEMPLATE_FEEDBACK=""))
    sender = build_senders(settings, fake_redis)["whatsapp"]
    customer_wrote(fake_redis, fake, hours_ago=30)
    with pytest.raises(RecipientUnreachable, match="WHATSAPP_TEMPLATE_FEEDBACK") as err:
        sender.send(update(purpose="feedback"))
    assert "last wrote 30 h ago" in str(err.value)
    with pytest.raises(RecipientUnreachable, match="only be sent as a reply"):
        sender.send(out("whatsapp"))  # an ordinary reply: it has no template
    assert fake.snapshot() == [] and int(fake_redis.hget(redis_keys.STATS, "whatsapp_window_closed")) == 2


def test_the_fake_twilio_is_as_strict_as_the_real_api_about_templates(fake):
    """What the real API refuses, so a sender that gets it wrong fails here first."""
    import requests

    fake.clear()
    url, auth = f"{fake.url}/2010-04-01/Accounts/{wh.TW_SID}/Messages.json", (wh.TW_SID, wh.TW_TOKEN)
    base = {"To": f"whatsapp:{PHONE}", "From": f"whatsapp:{wh.WA_FROM}"}
    cases = [({}, 21619), ({"ContentVariables": '{"1": "x"}', "Body": "hi"}, 21654),
             ({"ContentSid": "HX123"}, 21655), ({"ContentSid": "HX" + "0" * 32}, 21655),
             ({"ContentSid": wh.TEMPLATE_ORDER_UPDATE, "ContentVariables": "not json"}, 21656),
             ({"ContentSid": wh.TEMPLATE_ORDER_UPDATE, "ContentVariables": '{"1": ""}'}, 21656),
             ({"ContentSid": wh.TEMPLATE_ORDER_UPDATE, "ContentVariables": '["1"]'}, 21656)]
    for extra, code in cases:
        res = requests.post(url, data={**base, **extra}, auth=auth, timeout=5)
        assert (res.status_code, res.json()["code"]) == (400, code), extra
    fake.wrote(f"whatsapp:{PHONE}", time.time() - 25 * 3600)
    assert requests.post(url, data={**base, "Body": "Update: order #1002"}, auth=auth, timeout=5).status_code == 201
    [late] = fake.messages()  # accepted, then undelivered: Twilio reports 63016 through the status callback
    assert (late["status"], late["error_code"]) == ("undelivered", 63016)


def test_sms_bodies_avoid_characters_that_force_ucs2(senders, fake):
    text = "Your cart:\n• 2 kg × Apples — $5.98\n• 12 × Large eggs — $3.49\nTotal: $9.47\n\nAnything else? Say ‘done’."
    assert sms_text.segments(text) == ("UCS-2", 2)
    senders["sms"].send(out("sms", text))
    [sent] = fake.messages(PHONE)
    assert sent["Body"] == ("Your cart:\n- 2 kg x Apples - $5.98\n- 12 x Large eggs - $3.49\nTotal: $9.47\n"
                            "Anything else? Say 'done'.")
    assert sms_text.segments(sent["Body"]) == ("GSM-7", 1)


def test_an_opted_out_number_is_never_messaged(senders, fake, fake_redis):
    fake_redis.sadd(redis_keys.SMS_OPTED_OUT, PHONE)
    with pytest.raises(RecipientUnreachable, match="opted out"):
        senders["sms"].send(out("sms"))
    assert fake.snapshot() == []


def test_twilio_saying_unsubscribed_records_the_opt_out(senders, fake, fake_redis):
    fake.refuse(PHONE, 21610, "Attempt to send to unsubscribed recipient")
    try:
        with pytest.raises(RecipientUnreachable):
            senders["sms"].send(out("sms"))
        assert fake_redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE)
    finally:
        fake.allow(PHONE)


def test_whatsapps_24_hour_window_is_a_permanent_refusal_with_its_reason(senders, fake, fake_redis):
    to = "+14155559999"
    customer_wrote(fake_redis, fake, to, hours_ago=23)  # by our record inside the window; Twilio says otherwise
    fake.refuse(f"whatsapp:{to}", 63016, "Failed to send freeform message because you are outside the allowed window.")
    with pytest.raises(RecipientUnreachable, match="24-hour window") as err:
        senders["whatsapp"].send(out("whatsapp", to=to))
    assert "63016" in str(err.value)
    assert int(fake_redis.hget(redis_keys.STATS, "whatsapp_window_closed")) == 1


@pytest.mark.parametrize("status, code, error", [(429, 20429, TransientSendError), (500, 20500, TransientSendError),
                                                 (503, 0, TransientSendError), (400, 21211, RecipientUnreachable),
                                                 (400, 21602, PermanentSendError)])
def test_twilio_errors_map_to_retry_or_park(senders, fake, status, code, error):
    fake.fail_next(status, code, "as told")
    with pytest.raises(error) as err:
        senders["sms"].send(out("sms"))
    assert type(err.value) is error


def test_a_number_twilio_quotes_in_its_error_is_masked_in_the_reason(senders, fake):
    fake.fail_next(400, 21211, f"The 'To' number {PHONE} is not a valid phone number.")
    with pytest.raises(RecipientUnreachable) as err:
        senders["sms"].send(out("sms"))
    assert PHONE not in str(err.value) and "2671" in str(err.value) and "21211" in str(err.value)


def test_an_unreachable_twilio_is_transient(fake_redis):
    settings = load_settings(wh.channel_env(TWILIO_API_URL="http://127.0.0.1:9"))
    with pytest.raises(TransientSendError, match="unreachable"):
        build_senders(settings, fake_redis)["sms"].send(out("sms"))


def test_a_wrong_auth_token_is_permanent(fake, fake_redis):
    settings = load_settings(wh.channel_env(TWILIO_API_URL=fake.url, TWILIO_AUTH_TOKEN="wrong-token-0123456789"))
    with pytest.raises(PermanentSendError, match="20003"):
        build_senders(settings, fake_redis)["sms"].send(out("sms"))


def test_only_configured_numbers_get_senders(fake_redis):
    assert build_senders(load_settings({}), fake_redis) == {}
    only_wa = load_settings(wh.channel_env(TWILIO_SMS_FROM=""))
    assert set(build_senders(only_wa, fake_redis)) == {"whatsapp"}


# -- SMS text: GSM-7 and segments -----------------------------------------------------------------

def test_segments_follow_gsm7_and_ucs2_limits():
    assert sms_text.segments("a" * 160) == ("GSM-7", 1)
    assert sms_text.segments("a" * 161) == ("GSM-7", 2)
    assert sms_text.segments("a" * 306) == ("GSM-7", 2) and sms_text.segments("a" * 307) == ("GSM-7", 3)
    assert sms_text.segments("€" * 80) == ("GSM-7", 1)  # extension characters count twice
    assert sms_text.segments("€" * 81) == ("GSM-7", 2)
    assert sms_text.segments("é" * 160) == ("GSM-7", 1)  # é is in GSM-7
    assert sms_text.segments("ł" * 70) == ("UCS-2", 1) and sms_text.segments("ł" * 71) == ("UCS-2", 2)


def test_names_in_other_scripts_keep_their_letters():
    text = "You're all set, Łukasz — welcome!"
    assert sms_text.plain(text) == "You're all set, Łukasz - welcome!"


def test_a_huge_text_is_split_at_line_ends_within_the_segment_ceiling():
    lines = [f"- item number {i} with a fairly long product name" for i in range(60)]
    parts = sms_text.for_sms("\n".join(lines))
    assert len(parts) == 2 and all(sms_text.segments(p)[1] <= sms_text.MAX_SEGMENTS for p in parts)
    assert "\n".join(parts).split("\n") == lines
    one_line = "word " * 500
    assert all(sms_text.segments(p)[1] <= sms_text.MAX_SEGMENTS for p in sms_text.for_sms(one_line))
