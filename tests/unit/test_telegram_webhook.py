"""POST /webhooks/telegram through Flask's client with real Update shapes: who is let in, what
each kind of update becomes, and that refused or ignored updates queue nothing."""
from __future__ import annotations

import json

import pytest

from bot.common import redis_keys
from bot.pipeline import InboundMessage
from bot.pipeline import keys as pkeys
from tests.support import webhooks as wh

CHAT = 5550001
PHONE = "+14155552671"


@pytest.fixture
def rt(fake_redis, store, senders):
    return wh.channel_runtime(fake_redis, store, senders)


@pytest.fixture
def client(rt):
    from bot.app import create_app

    return create_app(rt).test_client()


def post(client, update: dict, secret=wh.TG_SECRET):
    return client.post("/webhooks/telegram", data=json.dumps(update), headers=wh.tg_headers(secret),
                       content_type="application/json")


def queued(rt, chat=CHAT) -> list[InboundMessage]:
    return [InboundMessage.from_dict(json.loads(raw)) for raw in rt.redis.lrange(pkeys.identity(f"telegram:{chat}").mailbox, 0, -1)]


@pytest.mark.parametrize("secret, reason", [(None, "missing"), ("wrong-secret", "does not match"),
                                            ("", "missing"), (wh.TG_SECRET + "x", "does not match")])
def test_an_update_without_the_right_secret_is_refused_and_nothing_is_queued(client, rt, secret, reason):
    res = post(client, wh.tg_text(CHAT, "hi"), secret=secret)
    assert res.status_code == 403 and reason in res.get_json()["error"]
    assert wh.nothing_queued(rt)


def test_without_a_telegram_token_the_route_does_not_exist(settings, fake_redis, store, senders):
    from bot.app import create_app
    from bot.runtime import build

    app = create_app(build(settings, redis=fake_redis, store=store, senders=senders))
    res = app.test_client().post("/webhooks/telegram", json=wh.tg_text(CHAT, "hi"), headers=wh.tg_headers())
    assert res.status_code == 404


def test_a_text_message_is_accepted_once_per_update_id(client, rt):
    update = wh.tg_text(CHAT, "2 kg of apples", update_id=90001)
    assert post(client, update).status_code == 200
    assert post(client, update).status_code == 200  # Telegram redelivers when unsure
    [message] = queued(rt)
    assert (message.channel, message.message_id, message.address, message.text, message.contact, message.kind) == \
        ("telegram", "90001", str(CHAT), "2 kg of apples", None, "text")
    assert int(rt.redis.hget(redis_keys.STATS, "duplicates:telegram")) == 1


@pytest.mark.parametrize("text, becomes", [("/start", "/start"), ("/start@orderline_test_bot", "/start"),
                                           ("/start ref-campaign-7", "/start"), ("/help", "/help"), ("/menu", "/menu"),
                                           ("/MENU", "/menu"), ("/unknown thing", "/unknown thing")])
def test_commands_reach_the_conversation_without_bot_names_or_payloads(client, rt, text, becomes):
    post(client, wh.tg_text(CHAT, text))
    assert queued(rt)[0].text == becomes


def test_a_shared_contact_vouches_for_the_phone_only_when_it_is_the_senders_own(client, rt):
    post(client, wh.tg_contact(CHAT, PHONE, user_id=CHAT))
    post(client, wh.tg_contact(CHAT, "+14155550000", user_id=CHAT + 1))  # someone else's card
    post(client, wh.tg_contact(CHAT, "+14155550000", user_id=None))  # a contact with no Telegram account
    own, other, anonymous = queued(rt)
    assert (own.kind, own.contact) == ("contact", PHONE)
    assert (other.kind, other.contact) == ("contact", None)
    assert (anonymous.kind, anonymous.contact) == ("contact", None)


@pytest.mark.parametrize("content, kind", [({"sticker": wh.tg_file("sticker")}, "media"),
                                           ({"photo": wh.tg_file("photo")}, "media"),
                                           ({"photo": wh.tg_file("photo"), "caption": "  "}, "media"),
                                           ({"voice": wh.tg_file("voice")}, "media"),
                                           ({"location": {"latitude": 52.52, "longitude": 13.405}}, "location"),
                                           ({"dice": {"emoji": "🎲", "value": 4}}, "unsupported")])
def test_non_text_messages_become_kinds_the_conversation_answers_politely(client, rt, content, kind):
    assert post(client, wh.tg_message(CHAT, **content)).status_code == 200
    [message] = queued(rt)
    assert message.kind == kind and message.contact is None


@pytest.mark.parametrize("content", [{"photo": wh.tg_file("photo"), "caption": "2 kg of these apples please"},
                                     {"document": {"file_id": "d1", "file_unique_id": "d1"},
                                      "caption": "2 kg of these apples please"}])
def test_a_caption_is_read_as_the_message(client, rt, content):
    """A photo of the shopping list with a caption: the caption is what the customer wrote."""
    assert post(client, wh.tg_message(CHAT, **content)).status_code == 200
    [message] = queued(rt)
    assert (message.kind, message.text) == ("text", "2 kg of these apples please")


@pytest.mark.parametrize("update", [
    wh.tg_message(CHAT, key="edited_message", text="2 kg of apples (edited)"),
    wh.tg_channel_post("Big sale today"),
    wh.tg_text(-100200300, "hi everyone", chat={"id": -100200300, "title": "Neighbours", "type": "group"}),
    wh.tg_message(CHAT, pinned_message={"message_id": 1, "chat": wh.tg_private_chat(CHAT), "date": 1}),
], ids=["edited", "channel_post", "group", "service"])
def test_updates_a_person_expects_no_answer_to_are_acknowledged_and_ignored(client, rt, update):
    res = post(client, update)
    assert res.status_code == 200
    assert wh.nothing_queued(rt)


@pytest.mark.parametrize("body, status", [("not json", 400), (json.dumps([1, 2]), 400),
                                          (json.dumps({"message": {"text": "hi"}}), 400),
                                          (json.dumps({"update_id": "7"}), 400)])
def test_malformed_bodies_get_a_4xx_with_a_reason(client, rt, body, status):
    res = client.post("/webhooks/telegram", data=body, headers=wh.tg_headers(), content_type="application/json")
    assert res.status_code == status and res.get_json()["error"]
    assert wh.nothing_queued(rt)


def test_blocking_and_unblocking_the_bot_is_recorded(client, rt):
    post(client, wh.tg_chat_member(CHAT, "kicked"))
    assert rt.redis.sismember(redis_keys.TELEGRAM_BLOCKED, str(CHAT))
    post(client, wh.tg_chat_member(CHAT, "member"))
    assert not rt.redis.sismember(redis_keys.TELEGRAM_BLOCKED, str(CHAT))
    rt.redis.sadd(redis_keys.TELEGRAM_BLOCKED, str(CHAT))
    post(client, wh.tg_text(CHAT, "hi again"))  # writing to the bot means they unblocked it
    assert not rt.redis.sismember(redis_keys.TELEGRAM_BLOCKED, str(CHAT))
    assert wh.nothing_queued(rt) is False


def test_non_text_messages_get_the_text_only_answer_through_the_pipeline(client, rt, pipeline, senders):
    post(client, wh.tg_message(CHAT, sticker=wh.tg_file("sticker")))
    pipeline.drain()
    pipeline.deliver()
    assert senders["telegram"].texts(str(CHAT)) == ["Sorry, I can only read text messages. Please type your message."]
