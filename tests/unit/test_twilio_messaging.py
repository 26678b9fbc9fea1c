"""POST /webhooks/twilio/messaging and /webhooks/twilio/status through Flask's client, signed
with the twilio SDK's RequestValidator over the public URL, with real SMS/WhatsApp shapes."""
from __future__ import annotations

import json

import pytest

from bot.common import redis_keys
from bot.pipeline import InboundMessage
from bot.pipeline import keys as pkeys
from tests.support import webhooks as wh

PHONE = "+14155552671"
PATH = "/webhooks/twilio/messaging"


@pytest.fixture
def rt(fake_redis, store, senders):
    return wh.channel_runtime(fake_redis, store, senders)


@pytest.fixture
def client(rt):
    from bot.app import create_app

    return create_app(rt).test_client()


def queued(rt, identity: str) -> list[InboundMessage]:
    return [InboundMessage.from_dict(json.loads(raw)) for raw in rt.redis.lrange(pkeys.identity(identity).mailbox, 0, -1)]


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "signed for another URL", "garbage", "tampered body"])
def test_requests_twilio_did_not_sign_are_refused_and_nothing_is_queued(client, rt, how):
    params = wh.sms(PHONE, "hi")
    kw = {"unsigned": {"token": None}, "wrong token": {"token": "not-the-auth-token"},
          "signed for another URL": {"base": "https://attacker.example.com"}, "garbage": {"signature": "Zm9vYmFy"},
          "tampered body": {"signature": wh.sign(wh.PUBLIC_BASE_URL + PATH, {**params, "Body": "hello"})}}[how]
    res = wh.twilio_post(client, PATH, params, **kw)
    assert res.status_code == 403 and "X-Twilio-Signature" in res.get_json()["error"]
    assert wh.nothing_queued(rt)


def test_the_signature_is_checked_against_the_public_url_not_the_one_the_app_sees(client, rt):
    res = wh.twilio_post(client, PATH, wh.sms(PHONE, "hi"))  # the app sees http://orderline-web:8000
    assert res.status_code == 200
    assert res.mimetype == "text/xml" and res.get_data(as_text=True).endswith("<Response />")
    [message] = queued(rt, f"sms:{PHONE}")
    assert (message.channel, message.address, message.contact, message.text) == ("sms", PHONE, PHONE, "hi")


def test_whatsapp_and_sms_share_the_route_and_the_number_is_the_address(client, rt):
    sms, wa = wh.sms(PHONE, "hi"), wh.whatsapp(PHONE, "2 kg of apples")
    wh.twilio_post(client, PATH, sms)
    wh.twilio_post(client, PATH, wa)
    [by_sms] = queued(rt, f"sms:{PHONE}")
    [by_wa] = queued(rt, f"whatsapp:{PHONE}")
    assert by_sms.message_id == sms["MessageSid"] and by_wa.message_id == wa["MessageSid"]
    assert (by_wa.channel, by_wa.address, by_wa.contact, by_wa.kind) == ("whatsapp", PHONE, PHONE, "text")


def test_a_redelivered_message_sid_is_processed_once(client, rt):
    params = wh.whatsapp(PHONE, "hi")
    for _ in range(3):
        assert wh.twilio_post(client, PATH, params).status_code == 200
    assert len(queued(rt, f"whatsapp:{PHONE}")) == 1
    assert int(rt.redis.hget(redis_keys.STATS, "duplicates:whatsapp")) == 2


@pytest.mark.parametrize("params, kind", [(wh.whatsapp_media(PHONE), "media"), (wh.whatsapp_location(PHONE), "location"),
                                          (wh.sms(PHONE, ""), "unsupported")])
def test_media_and_location_only_messages_get_the_polite_text_only_answer(client, rt, pipeline, senders, params, kind):
    wh.twilio_post(client, PATH, params)
    channel = "whatsapp" if params["From"].startswith("whatsapp:") else "sms"
    [message] = queued(rt, f"{channel}:{PHONE}")
    assert message.kind == kind
    pipeline.drain()
    pipeline.deliver()
    sent = [m.text for m in senders[channel].sent] if channel == "whatsapp" else \
        [e["text"] for e in senders["sms"].recent(PHONE)]
    assert sent == ["Sorry, I can only read text messages. Please type your message."]


@pytest.mark.parametrize("params, field", [(wh.sms("14155552671", "hi"), "From"), (wh.sms("whatsapp:", "hi"), "From"),
                                           ({**wh.sms(PHONE, "hi"), "MessageSid": "", "SmsSid": ""}, "MessageSid"),
                                           ({**wh.sms(PHONE, "hi"), "MessageSid": "XX1", "SmsSid": ""}, "MessageSid")])
def test_malformed_but_signed_requests_get_a_400_naming_the_field(client, rt, params, field):
    res = wh.twilio_post(client, PATH, params)
    assert res.status_code == 400 and field in res.get_json()["error"]
    assert wh.nothing_queued(rt)


def test_stop_opts_the_number_out_and_nothing_is_queued_until_start(client, rt):
    assert wh.twilio_post(client, PATH, wh.sms(PHONE, " Stop ")).status_code == 200
    assert rt.redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE) and wh.nothing_queued(rt)
    wh.twilio_post(client, PATH, wh.sms(PHONE, "2 kg of apples"))  # they asked not to be texted: no reply
    assert wh.nothing_queued(rt)
    assert int(rt.redis.hget(redis_keys.STATS, "ignored:sms_opted_out")) == 1
    wh.twilio_post(client, PATH, wh.sms(PHONE, "START"))
    assert not rt.redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE) and wh.nothing_queued(rt)
    wh.twilio_post(client, PATH, wh.sms(PHONE, "hi"))
    assert [m.text for m in queued(rt, f"sms:{PHONE}")] == ["hi"]


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "stop."])
def test_every_twilio_opt_out_keyword_opts_out(client, rt, word):
    wh.twilio_post(client, PATH, wh.sms(PHONE, word))
    assert rt.redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE) and wh.nothing_queued(rt)


def test_yes_opts_back_in_only_a_number_that_opted_out(client, rt):
    wh.twilio_post(client, PATH, wh.sms(PHONE, "yes"))
    assert [m.text for m in queued(rt, f"sms:{PHONE}")] == ["yes"]  # an answer to the conversation
    other = "+14155552672"
    wh.twilio_post(client, PATH, wh.sms(other, "STOP"))
    wh.twilio_post(client, PATH, wh.sms(other, "YES"))
    assert not rt.redis.sismember(redis_keys.SMS_OPTED_OUT, other) and not queued(rt, f"sms:{other}")


def test_stop_on_whatsapp_is_just_words_for_the_conversation(client, rt):
    wh.twilio_post(client, PATH, wh.whatsapp(PHONE, "stop"))
    assert not rt.redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE)
    assert [m.text for m in queued(rt, f"whatsapp:{PHONE}")] == ["stop"]


def test_help_and_info_are_answered_by_the_conversations_help(client, rt, pipeline, senders):
    wh.twilio_post(client, PATH, wh.sms(PHONE, "INFO"))
    pipeline.drain()
    pipeline.deliver()
    [sent] = senders["sms"].recent(PHONE)
    assert sent["text"].startswith("I'm the shop's ordering assistant.")


# -- delivery status callbacks --------------------------------------------------------------------

STATUS = "/webhooks/twilio/status"


def test_a_status_callback_must_be_signed_too(client, rt):
    res = wh.twilio_post(client, STATUS, wh.message_status(wh.sid("SM"), PHONE, "failed", "30003"), token=None)
    assert res.status_code == 403
    assert rt.deadletters.count() == 0


def test_delivered_is_quiet_and_failures_are_parked_once_with_their_reason(client, rt):
    ok = wh.message_status(wh.sid("SM"), PHONE, "delivered")
    assert wh.twilio_post(client, STATUS, ok).status_code == 204
    assert rt.deadletters.count() == 0
    window = wh.message_status(wh.sid("SM"), f"whatsapp:{PHONE}", "failed", "63016")
    for _ in range(2):  # Twilio may report the same status twice
        wh.twilio_post(client, STATUS, window)
    [item] = rt.deadletters.recent()
    entry = rt.deadletters.get(item["id"])
    assert entry["kind"] == "delivery" and "63016" in entry["reason"] and "24-hour window" in entry["reason"]
    assert json.loads(entry["payload"]) == {"channel": "whatsapp", "address": PHONE,
                                            "provider_id": window["MessageSid"], "reply_id": None}
    assert int(rt.redis.hget(redis_keys.STATS, "delivery_failed:whatsapp")) == 1
    assert int(rt.redis.hget(redis_keys.STATS, "whatsapp_window_closed")) == 1


def test_an_undelivered_sms_to_an_unsubscribed_number_records_the_opt_out(client, rt):
    wh.twilio_post(client, STATUS, wh.message_status(wh.sid("SM"), PHONE, "undelivered", "21610"))
    assert rt.redis.sismember(redis_keys.SMS_OPTED_OUT, PHONE)
    assert int(rt.redis.hget(redis_keys.STATS, "delivery_failed:sms")) == 1
