"""Tier 1: messages the shop sends first, as the conversation sees them (no Redis, no Mongo). The
shop's control messages arrive as turns of kind back_in_stock, cart_reminder and feedback_request;
each is said only if it is still true, and the customer can answer, ask, and opt out."""
from __future__ import annotations

import pytest

import statemachine as sm
from statemachine import outreach, prompts
from tests.support.conversation import Chat, sample_world

PHONE = "+14155552671"


@pytest.fixture
def world():
    return sample_world()


def registered(world, channel="api") -> Chat:
    chat = Chat(world, contact=PHONE, channel=channel, identity=f"{channel}:{PHONE if channel != 'api' else 'u1'}")
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield"):
        chat.say(line)
    assert chat.state == "menu"
    return chat


# -- back in stock -------------------------------------------------------------------------------

def test_a_customer_told_out_of_stock_can_ask_to_be_told_and_hears_once_when_it_is_back(world):
    chat = registered(world)
    chat.say("1")
    out = chat.say("2 jars of saffron")
    assert "Saffron threads is out of stock" in out and prompts.RESTOCK_OFFER in out
    out = chat.say("tell me when it's back")
    assert "I'll message you once Saffron threads is back in stock" in out
    assert world.waiting_for["SAFFRON"] == [(PHONE, "api:u1")]
    assert chat.state == "order"  # asking changed nothing else
    world.stock["SAFFRON"] = 5
    out = chat.say("", kind=sm.BACK_IN_STOCK, meta={"sku": "SAFFRON"})
    assert out.startswith("Good news: Saffron threads is back in stock") and "stop reminders" in out
    assert chat.state == "order"


def test_asking_by_name_and_for_what_is_in_stock(world):
    chat = registered(world)
    assert "I'll message you once Saffron threads is back" in chat.say("let me know when saffron is back in stock")
    assert chat.say("tell me when apples are back") == prompts.in_stock_now("Apples (Gala)")
    assert chat.say("notify me when it's back") == prompts.RESTOCK_WHICH  # nothing named, nothing told out


def test_back_in_stock_that_sold_out_again_keeps_the_customer_waiting_silently(world):
    chat = registered(world)
    chat.say("tell me when saffron is back")
    world.waiting_for.clear()
    assert chat.say("", kind=sm.BACK_IN_STOCK, meta={"sku": "SAFFRON"}) == ""  # stock is still 0
    assert world.waiting_for["SAFFRON"] == [(PHONE, "api:u1")]


# -- stop and start reminders --------------------------------------------------------------------

def test_stop_reminders_silences_every_message_sent_first_and_start_turns_them_back_on(world):
    chat = registered(world)
    world.stock["SAFFRON"] = 3
    assert chat.say("stop reminders") == prompts.REMINDERS_OFF
    assert world.customers[PHONE]["reminders"] is False and chat.state == "menu"
    assert chat.say("", kind=sm.BACK_IN_STOCK, meta={"sku": "SAFFRON"}) == ""
    assert chat.say("", kind=sm.FEEDBACK_REQUEST, meta={"order_id": "o1", "number": "1001"}) == ""
    chat.say("1")
    chat.say("2 kg of apples")
    chat.now += 4 * 3600
    assert chat.say("", kind=sm.CART_REMINDER, meta={"left_at": chat.now - 4 * 3600}, advance_seconds=0) == ""
    assert chat.say("start reminders") == prompts.REMINDERS_ON and world.customers[PHONE]["reminders"] is True


# -- cart left behind --------------------------------------------------------------------------

def left_cart(world, channel="api") -> Chat:
    chat = registered(world, channel)
    chat.say("1")
    chat.say("2 kg of apples and a dozen eggs")
    return chat


def remind(chat, hours=3.5):
    left = chat.now
    chat.now += hours * 3600
    return chat.say("", kind=sm.CART_REMINDER, meta={"left_at": left}, advance_seconds=0)


def test_a_cart_left_behind_is_reminded_of_once_and_the_customer_can_check_out(world):
    chat = left_cart(world)
    out = remind(chat)
    assert out == prompts.cart_reminder("2 items") and chat.replies[0].buttons == ("Done", "Menu")
    assert remind(chat) == ""  # never twice for one cart, however often the sweep asks
    chat.say("a loaf of white bread")  # the customer comes back to the same cart and leaves again
    assert remind(chat) == ""
    assert "Shall I place it?" in chat.say("done")


def test_no_reminder_after_an_order_or_when_the_customer_came_back(world):
    chat = left_cart(world)
    chat.say("done")
    chat.say("yes")
    assert chat.state == "menu" and remind(chat) == ""  # the cart became an order
    chat.say("1")
    chat.say("a dozen eggs")
    left = chat.now - 60  # the sweep saw the cart a minute before the customer's last message
    assert chat.say("", kind=sm.CART_REMINDER, meta={"left_at": left}) == ""
    assert remind(chat).startswith("You left 1 item in your cart")  # a new cart after an order: its own reminder


def test_a_silent_reminder_leaves_an_idle_conversation_idle(world):
    chat = left_cart(world)
    chat.say("stop reminders")
    before = chat.conv.updated_at
    assert remind(chat) == "" and chat.conv.updated_at == before


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_by_sms_or_whatsapp_a_cart_reminder_needs_the_customers_consent(world, channel):
    chat = left_cart(world, channel)
    assert remind(chat) == ""
    chat.say("start reminders")
    assert remind(chat, 4).startswith("You left 2 items in your cart")


# -- feedback after delivery -------------------------------------------------------------------

def test_a_rating_request_is_answered_with_a_number_and_a_comment_stored_with_the_order(world):
    chat = registered(world)
    out = chat.say("", kind=sm.FEEDBACK_REQUEST, meta={"order_id": "o7", "number": "1007"})
    assert out == prompts.ask_feedback("1007") and chat.state == "menu"
    assert chat.say("4 - the bananas were a bit green") == prompts.feedback_thanks(4)
    assert world.feedback["o7"] == (4, "the bananas were a bit green")
    assert "Place an order" in chat.say("1") or chat.state == "order"  # "1" is a menu choice again


def test_a_low_rating_is_acknowledged_and_anything_else_is_not_taken_for_a_rating(world):
    chat = registered(world)
    chat.say("", kind=sm.FEEDBACK_REQUEST, meta={"order_id": "o8", "number": "1008"})
    assert chat.say("1 star, eggs broken") == prompts.feedback_thanks(1) + " " + prompts.FEEDBACK_SORRY
    chat.say("", kind=sm.FEEDBACK_REQUEST, meta={"order_id": "o9", "number": "1009"})
    chat.say("menu")  # moved on: the question is dropped, and a later "5" is a menu choice
    assert "o9" not in world.feedback
    chat.say("5")
    assert "o9" not in world.feedback


def test_a_customer_busy_ordering_is_asked_later_not_interrupted(world):
    chat = left_cart(world)
    assert chat.say("", kind=sm.FEEDBACK_REQUEST, meta={"order_id": "o1", "number": "1001"}) == ""
    [later] = world.later
    assert later.message == sm.FEEDBACK_REQUEST and later.seconds == outreach.FEEDBACK_RETRY_SECONDS
    assert later.meta["tries"] == 1 and later.meta["order_id"] == "o1"


@pytest.mark.parametrize("text, expected", [("5", (5, "")), ("4/5 quick", (4, "quick")), ("3 stars", (3, "")),
                                            ("⭐⭐⭐⭐", (4, "")), ("2. late", (2, "late")), ("10", None),
                                            ("6", None), ("great", None), ("0", None)])
def test_what_counts_as_a_rating(text, expected):
    assert outreach.rating(text) == expected
