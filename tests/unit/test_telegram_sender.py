"""The Telegram sender: the real python-telegram-bot Bot against a fake Bot API server.

Asserts the exact requests the SDK makes (method, path with the token, form fields, keyboards)
and how Telegram's answers become Orderline's retry-or-park errors."""
from __future__ import annotations

import threading

import pytest

from bot.common import redis_keys
from bot.common.errors import PermanentSendError, RecipientUnreachable, TransientSendError
from bot.pipeline import OutboundMessage
from channels.telegram import SHARE_PHONE, TelegramSender, split_text
from tests.support.fake_telegram import FakeTelegram
from tests.support.webhooks import TG_TOKEN

CHAT = "5550001"
# PTB's own RetryAfter constructor reads retry_after, which warns about its future type
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*")


@pytest.fixture(scope="module")
def fake():
    server = FakeTelegram(TG_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def sender(fake, fake_redis):
    fake.clear()
    s = TelegramSender(TG_TOKEN, fake.url + "/bot", fake_redis)
    yield s
    s.close()


def out(text="Hello", **kw) -> OutboundMessage:
    return OutboundMessage(channel="telegram", address=kw.pop("address", CHAT), text=text, reply_id="m:0", **kw)


def test_a_reply_is_one_sendMessage_call_with_the_token_in_the_path(sender, fake):
    sender.send(out("Welcome to Orderline Grocery."))
    [req] = fake.calls("sendMessage")
    assert req.method == "POST" and req.path == f"/bot{TG_TOKEN}/sendMessage"
    assert req.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert req.form["chat_id"] == CHAT and req.form["text"] == "Welcome to Orderline Grocery."


def test_choices_become_a_reply_keyboard_and_no_choices_remove_it(sender, fake):
    sender.send(out("What would you like to do?", buttons=("Place an order", "Order status", "Help")))
    sender.send(out("Shall I place it?", buttons=("Yes", "No")))
    sender.send(out("Added 2 kg of apples."))
    menu, yes_no, plain = (m["reply_markup"] for m in fake.sent(CHAT))
    assert menu == {"keyboard": [[{"text": "Place an order"}], [{"text": "Order status"}], [{"text": "Help"}]],
                    "one_time_keyboard": True, "resize_keyboard": True}
    assert yes_no["keyboard"] == [[{"text": "Yes"}, {"text": "No"}]]
    assert plain == {"remove_keyboard": True}


def test_a_phone_request_offers_telegrams_share_contact_button(sender, fake):
    sender.send(out("To find your account, please share your phone number", request_phone=True))
    [sent] = fake.sent(CHAT)
    assert sent["reply_markup"]["keyboard"] == [[{"text": SHARE_PHONE, "request_contact": True}]]


def test_texts_over_4096_characters_go_as_several_messages_keyboard_on_the_last(sender, fake):
    lines = [f"{i}. Product number {i} with a long description that goes on" for i in range(200)]
    text = "\n".join(lines)
    sender.send(out(text, buttons=("Done", "Menu")))
    sent = fake.sent(CHAT)
    assert len(text) > 8192 and len(sent) == 3
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert "\n".join(m["text"] for m in sent) == text  # cut at line ends: nothing lost, nothing doubled
    assert [("reply_markup" in m) for m in sent] == [False] * (len(sent) - 1) + [True]


def test_split_text_cuts_at_lines_then_spaces_then_anywhere():
    assert split_text("short") == ["short"]
    assert split_text("aaa\nbbb", limit=5) == ["aaa", "bbb"]
    assert split_text("aaa bbb", limit=5) == ["aaa", "bbb"]
    assert split_text("abcdefgh", limit=3) == ["abc", "def", "gh"]


def test_flood_control_is_a_transient_error_carrying_retry_after(sender, fake):
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 17", {"retry_after": 17})
    with pytest.raises(TransientSendError) as err:
        sender.send(out())
    assert err.value.retry_after == 17


def test_a_chat_that_blocked_the_bot_is_recorded_and_never_tried_again(sender, fake, fake_redis):
    fake.block(CHAT + "9")
    with pytest.raises(RecipientUnreachable):
        sender.send(out(address=CHAT + "9"))
    assert fake_redis.sismember(redis_keys.TELEGRAM_BLOCKED, CHAT + "9")
    assert int(fake_redis.hget(redis_keys.STATS, "telegram_blocked")) == 1
    calls = len(fake.calls("sendMessage"))
    with pytest.raises(RecipientUnreachable):
        sender.send(out(address=CHAT + "9"))
    assert len(fake.calls("sendMessage")) == calls  # not attempted


def test_a_bad_request_is_permanent_though_the_sdk_calls_it_a_network_error(sender, fake):
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(PermanentSendError) as err:
        sender.send(out())
    assert not isinstance(err.value, TransientSendError) and "Chat not found" in str(err.value)


def test_a_server_error_or_unreachable_api_is_transient(sender, fake, fake_redis):
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    with pytest.raises(TransientSendError):
        sender.send(out())
    down = TelegramSender(TG_TOKEN, "http://127.0.0.1:9/bot", fake_redis)  # nothing listens on port 9
    try:
        with pytest.raises(TransientSendError):
            down.send(out())
    finally:
        down.close()


def test_a_send_racing_the_senders_close_is_transient_not_a_bug(sender, fake):
    """A worker shutting down closes its sender while a delivery is still running: the reply must
    be retried (by this or another process), not counted as a bug and parked."""
    sender.send(out("first"))
    bot = sender._bot()  # the delivery holds the bot when the worker's shutdown closes the loop
    sender.loop.stop()
    with pytest.raises(TransientSendError, match="closed"):
        sender._call(bot.send_message(chat_id=CHAT, text="second"), out("second"))
    assert [r.form["text"] for r in fake.calls("sendMessage")] == ["first"]


def test_a_wrong_token_is_permanent_and_never_written_into_the_reason(fake, fake_redis):
    wrong = TelegramSender("1:wrong-token-value", fake.url + "/bot", fake_redis)
    fake.fail_next("sendMessage", 401, "Unauthorized: token 1:wrong-token-value is invalid")
    try:
        with pytest.raises(PermanentSendError) as err:
            wrong.send(out())
        assert "wrong-token-value" not in str(err.value) and "<token>" in str(err.value)
    finally:
        wrong.close()


def test_one_bot_and_one_event_loop_serve_every_send_from_any_thread(sender, fake):
    sender.send(out("first"))
    bot, loop = sender.bot, sender.loop.loop
    errors = []

    def send_some(n):
        try:
            for i in range(5):
                sender.send(out(f"thread {n} message {i}"))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=send_some, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sender.bot is bot and sender.loop.loop is loop and loop.is_running()
    assert len(fake.sent(CHAT)) == 16


def test_a_long_reply_retried_after_a_failed_part_resumes_at_that_part(fake, fake_redis, store, settings):
    """Through the outbox: part 2 of 3 fails (Telegram answers 502); the retry sends parts 2 and 3 only."""
    from bot.runtime import build
    from tests.support.pipeline import Pipeline

    fake.clear()
    sender = TelegramSender(TG_TOKEN, fake.url + "/bot", fake_redis)
    rt = build(settings, redis=fake_redis, store=store, senders={"telegram": sender}, load_sample=True)
    text = "\n".join(f"{i}. Product number {i} with a long description that goes on" for i in range(200))
    rt.outbox.push([out(text)])
    delivery = Pipeline(rt).delivery
    original = fake._answer
    calls = []

    def fail_the_second(req):
        calls.append(req)
        if req.path.endswith("/sendMessage") and len(calls) == 2:
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return original(req)

    fake.handler = fail_the_second
    try:
        assert delivery.run(1) == 0  # part 1 went, part 2 failed: the reply waits to be retried
        first = [m["text"] for m in fake.sent(CHAT)]
        fake_redis.zadd("ol:outready", {next(iter(fake_redis.zrange("ol:outready", 0, 0))): 0})  # due now
        assert delivery.run(1) == 1
    finally:
        fake.handler = original
        sender.close()
    parts = split_text(text)
    assert len(parts) == 3 and first == parts[:2]  # part 1 sent, part 2 refused (502)
    assert [m["text"] for m in fake.sent(CHAT)] == [parts[0], parts[1], parts[1], parts[2]]  # resumed at part 2
