"""Tier 1: the shop's rules at checkout, the conversation alone. Each test is what a customer of the
sample shop (bot/data/shop.yaml: $4.99 delivery, free over $50, $20 minimum, Springfield and
Chatham, 2-hour slots of 10) would notice. The clock is a Tuesday at 10 AM in Springfield."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import statemachine as sm
from bot.shop.rules_source import parse_rules
from statemachine import prompts
from statemachine.rules import ALWAYS, Week
from tests.conftest import SAMPLE_SHOP
from tests.support.conversation import Chat, sample_world

PHONE = "+14155552671"
SAMPLE = parse_rules(Path(SAMPLE_SHOP).read_text())
TUESDAY_10AM = 1799769600.0  # 2027-01-12 10:00 America/Chicago
TUESDAY_11PM = 1799816400.0
ONLINE = dataclasses.replace(SAMPLE, payment_methods=("on_delivery", "online"))
NEWCOMER = "2 kg of apples, a dozen eggs, a pack of cheddar and 1 kg of carrots"  # $18.66


@pytest.fixture
def world():
    return sample_world()


def customer(world, rules=SAMPLE, now=TUESDAY_10AM, address="12 Main Street, Springfield", channel="api",
             phone=PHONE) -> Chat:
    chat = Chat(world, contact=phone, limits=sm.Limits(shop=rules), now=now, channel=channel,
                identity=f"{channel}:{phone}")
    chat.say("hi")
    chat.say("Ana Lima")
    chat.say(address)
    assert chat.state == "menu"
    chat.say("1")
    return chat


def to_slots(chat, items="10 kg of apples") -> str:
    chat.say(items)
    return chat.say("done")


# -- money: minimum, fee, free delivery ------------------------------------------------------------

def test_the_newcomers_order_below_the_minimum_is_refused_and_stays_in_the_cart(world):
    chat = customer(world)
    chat.say(NEWCOMER)
    out = chat.say("done")
    assert out == "Your items come to $18.66: add $1.34 more to reach the $20 minimum. What else would you like?"
    assert chat.state == "order" and len(chat.conv.cart) == 4
    assert "Choose" not in out and world.orders == []


def test_an_order_above_the_minimum_shows_items_fee_and_total_and_is_placed_with_them(world):
    chat = customer(world)
    chat.say(NEWCOMER + " and 2 packs of butter")  # + $9.98 = $28.64
    out = chat.say("done")
    assert "When should we deliver?\n1. Today 1 PM–3 PM\n2. Today 3 PM–5 PM\n3. Today 5 PM–7 PM" in out
    out = chat.say("1")
    assert "Items: $28.64\nDelivery: $4.99 (free over $50)\nTotal: $33.63" in out
    assert "Delivery slot: Today 1 PM–3 PM" in out and "Payment: on delivery (cash or card)" in out
    out = chat.say("yes")
    assert "Total: $33.63." in out and "That includes $4.99 delivery." in out
    assert "Delivery: Today 1 PM–3 PM." in out and prompts.PAY_ON_DELIVERY in out
    order = world.orders[0]
    assert order["total_cents"] == 3363 and order["delivery_fee_cents"] == 499
    assert order["slot"]["label"] == "Today 1 PM–3 PM" and world.slots[order["slot"]["id"]] == 1


def test_delivery_is_free_over_the_threshold(world):
    chat = customer(world)
    to_slots(chat, "12 kg of apples")  # $52.68
    out = chat.say("2")
    assert "Items: $52.68\nDelivery: free (orders over $50)\nTotal: $52.68" in out
    chat.say("yes")
    assert world.orders[0]["total_cents"] == 5268 and world.orders[0]["delivery_fee_cents"] == 0


# -- areas ----------------------------------------------------------------------------------------

def test_an_address_outside_the_areas_is_refused_naming_them_and_a_new_one_is_taken(world):
    chat = customer(world, address="5 Elm Road, Shelbyville 62565")
    chat.say("10 kg of apples")
    out = chat.say("done")
    assert out == ("Sorry, we don't deliver to that address. We deliver to: Springfield (62701, 62702, 62703, "
                   "62704), Chatham (62629). Please type a delivery address in one of those areas, or say 'menu'.")
    assert chat.state == "address"
    assert chat.say("9 Lake View, Decatur 62521").startswith("Sorry, we don't deliver to that address.")
    assert chat.say("x1") == prompts.BAD_ADDRESS
    out = chat.say("7 Oak Street, Chatham 62629")
    assert out.startswith("Thanks, I'll deliver to 7 Oak Street, Chatham 62629.") and chat.state == "slot"
    assert world.customers[PHONE]["address"] == "7 Oak Street, Chatham 62629"
    out = chat.say("1")
    assert "Delivery: $6.99 (free over $50)" in out and "Deliver to: 7 Oak Street, Chatham 62629" in out


# -- opening hours --------------------------------------------------------------------------------

def test_outside_hours_a_refusing_shop_says_when_it_opens_and_keeps_the_cart(world):
    chat = customer(world, rules=dataclasses.replace(SAMPLE, outside_hours="refuse"), now=TUESDAY_11PM)
    chat.say("10 kg of apples")
    assert chat.say("done") == ("Sorry, we're closed right now and can't take orders. We open again tomorrow at "
                                "8 AM; I'll keep your cart.")
    assert chat.state == "order" and chat.conv.cart == [{"sku": "APPLE", "quantity": 10}]


def test_outside_hours_an_accepting_shop_says_when_the_order_will_be_handled(world):
    chat = customer(world, now=TUESDAY_11PM)
    out = to_slots(chat)
    assert "1. Tomorrow 9 AM–11 AM" in out
    out = chat.say("1")
    assert "We're closed right now: your order will be handled from tomorrow at 8 AM." in out


# -- delivery slots -------------------------------------------------------------------------------

def test_later_slots_page_by_page_then_the_last_page_again(world):
    chat = customer(world)
    to_slots(chat)
    assert "1. Tomorrow 9 AM–11 AM" in chat.say("later")
    out = chat.say("later please")
    assert "1. Tomorrow 3 PM–5 PM" in out and chat.replies[-1].buttons[0] == "Tomorrow 3 PM–5 PM"
    for _ in range(3):
        out = chat.say("later")
    assert out.startswith(prompts.NO_LATER_SLOTS) and "Thu Jan 14 5 PM–7 PM" in out
    assert chat.say("banana split") == prompts.SLOT_WHICH
    assert "Delivery slot: Thu Jan 14 5 PM–7 PM" in chat.say("Thu Jan 14 5 PM–7 PM")  # the button's text


def test_a_full_slot_is_not_offered(world):
    chat = customer(world)
    world.slots["2027-01-12T13:00"] = 10
    out = to_slots(chat)
    assert "1. Today 3 PM–5 PM" in out and "1 PM–3 PM" not in out


def test_every_slot_full_says_so_and_keeps_the_cart(world):
    from statemachine.rules import upcoming_slots

    chat = customer(world)
    for slot in upcoming_slots(SAMPLE, TUESDAY_10AM):
        world.slots[slot.id] = 10
    assert to_slots(chat) == "Sorry, every delivery slot in the next 3 days is full. Please try again later; " \
                             "I'll keep your cart."
    assert chat.state == "order" and chat.conv.cart


def test_the_slot_filling_up_before_yes_offers_the_next_ones(world):
    chat = customer(world)
    to_slots(chat)
    chat.say("1")
    world.slots_taken_meanwhile = {"2027-01-12T13:00": 10}  # the last places went while we talked
    out = chat.say("yes")
    assert out.startswith("Sorry, the Today 1 PM–3 PM slot just filled up.\nWhen should we deliver?")
    assert "1. Today 3 PM–5 PM" in out and chat.state == "slot" and world.orders == []
    chat.say("1")
    assert "is placed" in chat.say("yes") and world.orders[0]["slot"]["id"] == "2027-01-12T15:00"


def test_another_slot_at_the_confirmation(world):
    chat = customer(world)
    to_slots(chat)
    chat.say("1")
    assert "When should we deliver?" in chat.say("another slot please") and chat.state == "slot"
    assert "Delivery slot: Today 5 PM–7 PM" in chat.say("3")


def test_a_slot_past_its_cutoff_by_yes_is_asked_again(world):
    chat = customer(world)
    to_slots(chat)
    chat.say("1")
    out = chat.say("yes", advance_seconds=3 * 3600)  # 1 PM now: the 1 PM slot closed at noon
    assert out.startswith("Sorry, the Today 1 PM–3 PM slot just filled up.") and chat.state == "slot"


# -- payment --------------------------------------------------------------------------------------

def test_paying_on_delivery_when_the_shop_also_takes_online(world):
    chat = customer(world, rules=ONLINE)
    to_slots(chat)
    out = chat.say("1")
    assert "How would you like to pay?\n1. On delivery (cash or card)\n2. Online now, by card" in out
    assert chat.say("bitcoin") == prompts.PAYMENT_WHICH
    assert "Payment: on delivery (cash or card)" in chat.say("cash")
    assert prompts.PAY_ON_DELIVERY in chat.say("yes") and world.orders[0]["status"] == "confirmed"


def test_paying_online_sends_the_link_for_the_orders_total(world):
    chat = customer(world, rules=ONLINE)
    to_slots(chat)
    chat.say("1")
    assert "Payment: online now, by card (a secure stripe link)" in chat.say("2")
    out = chat.say("yes")
    order = world.orders[0]
    assert order["status"] == "awaiting_payment" and world.payment_links == [order["id"]]
    assert out == (f"Order #{order['number']} is reserved for you. Total: $48.89. Pay securely here: "
                   f"https://checkout.stripe.test/{order['id']}\nThe link works until today at 10:30 AM; "
                   "I'll confirm here as soon as the payment arrives.")
    assert chat.state == "menu" and chat.conv.cart == []


def test_the_payment_service_down_places_the_order_to_pay_on_delivery(world):
    chat = customer(world, rules=ONLINE)
    to_slots(chat)
    chat.say("1")
    chat.say("online")
    world.link_fails = True
    out = chat.say("yes")
    assert out == (f"I couldn't reach the payment service just now, so order #{world.orders[0]['number']} is "
                   "placed to pay on delivery instead. Total: $48.89.")
    assert world.orders[0]["status"] == "confirmed"


def test_a_phone_call_is_not_offered_a_link(world):
    chat = customer(world, rules=ONLINE, channel="voice")
    to_slots(chat)
    assert "Payment: on delivery" in chat.say("1") and chat.state == "confirm"


# -- out of stock at checkout -----------------------------------------------------------------------

def test_an_item_that_ran_out_offers_the_closest_alternative(world):
    chat = customer(world)
    chat.say("10 kg of apples and 2 litres of whole milk")
    world.stock["MILK-WHOLE"] = 0
    out = chat.say("done")
    assert out.startswith("Sorry, Whole milk ran out. The closest we have is Skim milk ($1.25/l).\n"
                          "1. Take Skim milk instead\n2. Go on without it")
    assert chat.state == "substitute" and chat.replies[-1].buttons == ("Take Skim milk instead", "Go on without it")
    assert chat.say("hmm") == prompts.SUBSTITUTE_WHICH
    out = chat.say("1")
    assert out.startswith("Okay: 2 l × Skim milk instead.\nWhen should we deliver?")
    assert {"sku": "MILK-SKIM", "quantity": 2} in chat.conv.cart


def test_going_on_without_the_item(world):
    chat = customer(world)
    chat.say("10 kg of apples and 2 litres of whole milk")
    world.stock["MILK-WHOLE"] = 0
    chat.say("done")
    assert chat.say("go on without it").startswith("Okay, going on without Whole milk.")
    assert chat.conv.cart == [{"sku": "APPLE", "quantity": 10}]


def test_nothing_similar_and_fewer_left(world):
    chat = customer(world)
    chat.say("10 kg of apples, 3 avocados and a bag of rice")
    world.stock.update({"AVOCADO": 1, "RICE-WHITE": 0})
    for p in world.catalog:
        if p.category == world.catalog.get("RICE-WHITE").category and p.unit == "bag" and p.sku != "RICE-WHITE":
            world.stock[p.sku] = 0
    out = chat.say("done")
    assert "Only 1 of Avocados (Hass) is left, so I've changed your cart to that." in out
    assert "ran out and we have nothing similar, so I've taken it out of your cart." in out


def test_stock_taken_while_confirming_offers_the_alternative(world):
    chat = customer(world)
    chat.say("10 kg of apples and 2 litres of whole milk")
    chat.say("done")
    chat.say("1")
    world.taken_by_others = {"MILK-WHOLE": 120}
    out = chat.say("yes")
    assert out.startswith("Sorry, while we were talking, we ran out of: Whole milk.\nSorry, Whole milk ran out.")
    assert chat.state == "substitute" and world.orders == []
    out = chat.say("1")  # the slot chosen before still holds: straight back to the confirmation
    assert "• 2 l × Skim milk — $2.50" in out and "Delivery slot: Today 1 PM–3 PM" in out
    assert chat.state == "confirm"


def test_a_placement_retried_too_late_asks_to_confirm_again(world):
    chat = customer(world)
    to_slots(chat)
    chat.say("1")
    world.refuse_next = {"ok": False, "short": [], "reason": "stale"}
    assert chat.say("yes") == prompts.PLACEMENT_STALE and chat.state == "confirm"
    assert "is placed" in chat.say("yes")


# -- the same as last time --------------------------------------------------------------------------

def test_reorder_fills_the_cart_at_todays_prices_saying_what_changed(world):
    chat = customer(world)
    chat.say("10 kg of apples, 2 litres of whole milk, 3 avocados, a bag of rice and a loaf of white bread")
    chat.say("done")
    chat.say("1")
    chat.say("yes")
    number = world.orders[0]["number"]
    world.prices.update({"MILK-WHOLE": 139, "BREAD-WHITE": None})
    world.stock.update({"RICE-WHITE": 0, "AVOCADO": 1})
    out = chat.say("the same as last time")
    assert out.startswith(f"I've filled your cart from your last order (#{number}), at today's prices.\n"
                          "What changed since then:\n")
    assert "• Whole milk is now $1.39 (was $1.29)" in out
    assert "• only 1 of Avocados (Hass) is left, so I put that in" in out
    assert "is out of stock, so I left it out" in out and "BREAD-WHITE is no longer sold" in out
    assert chat.state == "order"
    assert chat.conv.cart == [{"sku": "APPLE", "quantity": 10}, {"sku": "MILK-WHOLE", "quantity": 2},
                              {"sku": "AVOCADO", "quantity": 1}]


def test_reorder_with_nothing_before_or_nothing_left(world):
    chat = customer(world)
    chat.say("menu")
    assert chat.say("repeat my last order") == prompts.NOTHING_TO_REORDER and chat.state == "order"
    chat.say("3 avocados and 10 kg of apples")
    chat.say("done")
    chat.say("1")
    chat.say("yes")
    world.stock.update({"AVOCADO": 0, "APPLE": 0})
    assert chat.say("same again").endswith(prompts.REORDER_NOTHING_LEFT)


# -- the rules in words -----------------------------------------------------------------------------

@pytest.mark.parametrize("question, answer", [
    ("how much is delivery?", "Delivery costs $4.99, and it's free for orders of $50.00 or more. "
                              "To Chatham, delivery costs $6.99."),
    ("is there a minimum order?", "The minimum order for delivery is $20.00 worth of products."),
    ("where do you deliver to?", "We deliver to: Springfield (62701, 62702, 62703, 62704), Chatham (62629)."),
    ("what are your opening hours?", "We handle orders Monday to Saturday 8 AM–9 PM, Sunday 9 AM–6 PM "
                                     "(America/Chicago time)."),
    ("when do you deliver?", "We deliver in 2-hour slots, Monday to Saturday 9 AM–7 PM, Sunday 10 AM–4 PM, up to "
                             "3 days ahead; you choose one at checkout, and a slot can be booked until 1 hour "
                             "before it starts."),
    ("how can I pay?", "You can pay on delivery (cash or card)."),
])
def test_questions_about_the_rules_are_answered_from_the_rules(world, question, answer):
    chat = customer(world)
    assert chat.say(question) == answer and chat.state == "order"


def test_a_shop_without_rules_says_so(world):
    chat = customer(world, rules=sm.rules.ShopRules(payment_methods=("on_delivery", "online")))
    assert chat.say("how much is delivery?") == prompts.RULE_FREE_DELIVERY
    assert chat.say("is there a minimum order?") == prompts.RULE_NO_MINIMUM
    assert chat.say("where do you deliver?") == prompts.RULE_ANYWHERE
    assert chat.say("how do I pay?") == "You can pay on delivery (cash or card), or online now, by card " \
                                        "(a secure stripe link)."
    assert chat.say("when are you open?").startswith("Monday to Saturday 8 am")  # no hours set: faq.json's words


def test_help_in_the_checkout_states(world):
    chat = customer(world, address="5 Elm Road, Shelbyville", rules=ONLINE)
    to_slots(chat)
    assert "delivery address in one of the areas" in chat.say("help")
    chat.say("12 Main Street, Springfield")
    assert "choosing when we should deliver" in chat.say("help")
    chat.say("1")
    assert "choosing how to pay" in chat.say("help")
    chat.say("menu")
    chat.say("1")
    chat.say("2 litres of whole milk and 10 kg of apples")
    world.stock["MILK-WHOLE"] = 0
    chat.say("done")
    assert "take the alternative" in chat.say("help")
    assert chat.say("cancel").startswith(prompts.CART_CLEARED) and chat.state == "menu" and chat.conv.chosen == {}


def test_a_plain_shop_asks_nothing_new(world):
    chat = Chat(world, contact=PHONE)
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "1", "a dozen eggs"):
        chat.say(line)
    out = chat.say("done")
    assert out == ("Here's your order:\n• 12 × Large eggs — $4.20\nTotal: $4.20\n"
                   "Payment: on delivery (cash or card)\nDeliver to: 12 Main Street, Springfield\nShall I place it? (yes / no)")
    assert chat.say("yes") == "Thank you! Order #1001 is placed. Total: $4.20. We'll deliver to 12 Main Street, " \
                              "Springfield."


def test_a_closed_always_week_is_always_open():
    assert ALWAYS.always and not Week(((),) * 7).always
