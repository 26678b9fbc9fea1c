"""Tier 1: the conversation alone (no Redis, no Mongo, no queue). Each test is something a customer
would notice: what they are asked, what they are told, what ends up ordered."""
from __future__ import annotations

import pytest

import statemachine as sm
from bot.nlu.types import ItemRequest, NluResult
from statemachine import prompts
from statemachine.machine import machine
from tests.support.conversation import Chat, sample_world

PHONE = "+14155552671"


@pytest.fixture
def world():
    return sample_world()


def registered(world, phone=PHONE, name="Ana Lima", **kw) -> Chat:
    """A customer who has registered and is at the menu."""
    chat = Chat(world, contact=phone, **kw)
    chat.say("hi")
    chat.say(name)
    chat.say("12 Main Street, Springfield")
    assert chat.state == "menu"
    return chat


# -- identification ------------------------------------------------------------------------

def test_new_customer_with_vouched_phone_registers_and_reaches_menu(world):
    chat = Chat(world, contact=PHONE)
    out = chat.say("hi")
    assert "Welcome to Orderline Grocery" in out and "What's your name?" in out
    assert chat.state == "register"
    assert "delivery address" in chat.say("Ana Lima")
    out = chat.say("12 Main Street, Springfield")
    assert "You're all set, Ana Lima." in out and "1. Place an order" in out
    assert chat.state == "menu"
    assert world.customers[PHONE]["name"] == "Ana Lima"


def test_registration_refuses_a_number_as_name_and_a_short_address(world):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    assert chat.say("12345") == prompts.BAD_NAME
    chat.say("Ana")
    assert chat.say("x1") == prompts.BAD_ADDRESS
    assert chat.state == "register" and PHONE not in world.customers


def test_returning_customer_is_welcomed_by_name_without_registering(world):
    registered(world)
    again = Chat(world, contact=PHONE, identity="whatsapp:" + PHONE, channel="whatsapp")
    out = again.say("hello")
    assert out.startswith("Welcome back, Ana Lima!")
    assert again.state == "menu"


def test_unverified_customer_is_asked_for_a_phone(world):
    chat = Chat(world)
    out = chat.say("hello")
    assert prompts.ASK_PHONE in out and chat.state == "verify"
    assert chat.replies[-1].request_phone
    assert chat.say("what?") == prompts.ASK_PHONE
    assert chat.say("+12") == prompts.NOT_A_PHONE


def test_typed_number_needs_the_code_sent_to_it(world):
    chat = Chat(world)
    chat.say("hi")
    out = chat.say("+14155552672")
    assert "+1 ••• ••• 2672" in out and "6-digit code" in out
    assert chat.effect_kinds() == ["SendCode"] and world.codes["+14155552672"] == "123456"
    assert "isn't right. You have 4 tries left" in chat.say("999999")
    out = chat.say("123456")
    assert "What's your name?" in out and chat.state == "register"
    assert world.links["api:u1"] == "+14155552672"


def test_a_typed_number_reveals_nothing_about_its_owner(world):
    registered(world, name="Bob Secret")
    stranger = Chat(world, identity="api:mallory")
    replies = [stranger.say("hi"), stranger.say(PHONE)] + [stranger.say(f"00000{i}") for i in range(5)]
    replies += [stranger.say("2"), stranger.say("order status"), stranger.say("menu")]
    joined = "\n".join(replies)
    assert "Bob" not in joined and "Main Street" not in joined and "#10" not in joined
    assert stranger.state == "verify" and stranger.conv.phone is None


def test_five_wrong_codes_lock_that_phone_everywhere(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    for left in (4, 3, 2, 1):
        assert f"You have {left}" in chat.say("000000")
    out = chat.say("000000")
    assert "locked for 30 minutes" in out and chat.effect_kinds() == ["LockVerification"]
    # the right code no longer helps, and a second conversation can't start over for that phone
    assert "locked" in chat.say(PHONE)
    other = Chat(world, identity="api:other")
    other.say("hi")
    assert "locked" in other.say(PHONE) and PHONE not in world.codes or world.codes[PHONE] == "123456"


def test_code_expires_and_resend_sends_a_new_one(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    assert chat.say("123456", advance_seconds=301) == prompts.CODE_EXPIRED
    assert "6-digit code" in chat.say("resend")
    assert world.codes[PHONE] == "654321"
    assert "What's your name?" in chat.say("654321")


def test_resends_are_limited(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    chat.say("resend")
    chat.say("resend")
    assert chat.say("resend") == prompts.TOO_MANY_SENDS


def test_change_number_goes_back_to_asking(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    assert chat.say("change number") == prompts.ASK_PHONE
    assert chat.conv.step == "phone"


def test_waiting_for_a_code_other_text_repeats_the_instruction(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    assert "Please type it here" in chat.say("I didn't get anything")


@pytest.mark.parametrize("reason, said", [
    ("number_type", prompts.CODE_REFUSED_TYPE),
    ("country", prompts.codes_only_to("US, CA")),
    ("rejected", prompts.CODE_NOT_SENT),
    ("budget", prompts.CODES_UNAVAILABLE),
    ("number_cap", prompts.TOO_MANY_SENDS),
])
def test_a_refused_code_is_said_politely_and_nothing_is_pending(world, reason, said):
    world.code_refusals["+19002345678"] = reason
    chat = Chat(world, limits=sm.Limits(code_countries=("US", "CA")))
    chat.say("hi")
    assert chat.say("+19002345678") == said
    assert "+19002345678" not in world.codes and chat.conv.step == "phone" and chat.conv.pending == {}
    assert chat.replies[-1].request_phone
    assert "6-digit code" in chat.say("+14155552672")  # another number goes ahead


def test_a_refused_resend_keeps_the_code_already_sent(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say(PHONE)
    world.code_refusals[PHONE] = "identity_cap"
    assert chat.say("resend") == prompts.TOO_MANY_SENDS
    assert chat.conv.step == "code"
    assert "What's your name?" in chat.say(world.codes[PHONE])


def test_a_provider_checks_the_code_it_sent(world):
    chat = Chat(world, limits=sm.Limits(codes="provider"))
    chat.say("hi")
    assert "6-digit code" in chat.say(PHONE)
    assert chat.conv.pending["hash"] == ""  # the provider holds the code: nothing of it here
    assert "4 tries left" in chat.say("999999") and chat.effect_kinds() == ["CheckCode"]
    world.provider_down = True
    assert chat.say("123456") == prompts.CODE_CHECK_UNAVAILABLE and chat.state == "verify"
    world.provider_down = False
    assert "What's your name?" in chat.say("123456")
    assert world.links["api:u1"] == PHONE


def test_a_provider_that_is_down_sends_no_code(world):
    world.provider_down = True
    chat = Chat(world, limits=sm.Limits(codes="provider"))
    chat.say("hi")
    assert chat.say(PHONE) == prompts.CODES_UNAVAILABLE and chat.conv.step == "phone"


def test_without_a_way_to_send_codes_typed_numbers_are_refused_at_the_start(world):
    chat = Chat(world, limits=sm.Limits(codes="", verify_ways=("telegram", "whatsapp")), identity="telegram:42",
                channel="telegram")
    out = chat.say("hi")
    assert prompts.verify_by_only("sharing it with the button in Telegram or writing to us from it on WhatsApp") in out
    assert chat.replies[-1].request_phone and chat.state == "verify"
    assert "can't check a number typed here" in chat.say(PHONE)
    assert world.codes == {} and chat.effect_kinds() == []
    out = chat.say("", kind="contact", contact=PHONE)  # sharing the contact still works
    assert "What's your name?" in out


def test_without_any_vouching_channel_the_app_is_named(world):
    chat = Chat(world, limits=sm.Limits(codes=""))
    assert "only by the app you're using" in chat.say("hi")


def test_a_caller_whose_caller_id_vouches_for_nothing_is_offered_a_code_first(world):
    registered(world, name="Bob Secret")  # the caller ID is Bob's; the caller may not be Bob
    call = Chat(world, identity="voice:call-CA1", channel="voice", caller_id=PHONE)
    out = call.say("hello")
    assert prompts.offer_code("+1 ••• ••• 2671") in out and "Bob" not in out and call.state == "verify"
    assert "Bob" not in call.say("order status") and "Bob" not in call.say("menu")
    assert "6-digit code" in call.say("yes") and world.codes[PHONE]  # texted to Bob's phone, not said here
    assert "isn't right" in call.say("000000")
    assert "Welcome back, Bob Secret" in call.say(world.codes[PHONE])


def test_help_never_invites_a_lone_opt_out_word(world):
    chat = registered(world)
    said = chat.say("help").lower()
    for word in ("'cancel'", "'stop'", "'end'", "'quit'", "'unsubscribe'"):
        assert word not in said
    assert "'menu'" in said


def test_shared_contact_of_someone_else_is_refused(world):
    chat = Chat(world, identity="telegram:42", channel="telegram")
    chat.say("hi")
    out = chat.say("", kind="contact")  # the adapter sets contact only when it's the sender's own
    assert out == prompts.CONTACT_NOT_OWN and chat.state == "verify"
    out = chat.say("", kind="contact", contact=PHONE)
    assert "What's your name?" in out


def test_a_chat_that_shares_its_contact_keeps_its_cart_and_is_linked(world):
    chat = Chat(world, identity="telegram:42", channel="telegram")
    chat.say("Hi! I'd like 2 kg of bananas")
    out = chat.say("", kind="contact", contact=PHONE)
    assert "What's your name?" in out and world.links["telegram:42"] == PHONE
    chat.say("Tara Green")
    out = chat.say("7 Elm Road, Springfield")
    assert chat.state == "order" and "2 kg × Bananas" in out


def test_a_contact_shared_after_verification_says_so_or_switches_to_that_customer(world):
    registered(world, phone="+14155552699", name="Bo Diaz")
    chat = Chat(world, identity="telegram:43", channel="telegram")
    chat.say("hi")
    chat.say(PHONE)
    chat.say(world.codes[PHONE])
    chat.say("Ana Lima")
    chat.say("12 Main Street, Springfield")
    assert chat.state == "menu"
    out = chat.say("", kind="contact", contact=PHONE)  # the same number: nothing changes
    assert out == prompts.already_linked("+1 ••• ••• 2671") and chat.state == "menu"
    assert chat.say("", kind="contact") == prompts.CONTACT_NOT_OWN  # someone else's contact
    out = chat.say("", kind="contact", contact="+14155552699")  # their own other number
    assert out.startswith("Welcome back, Bo Diaz!") and chat.state == "menu"
    assert world.links["telegram:43"] == "+14155552699"


def test_first_line_with_items_is_kept_for_after_registration(world):
    chat = Chat(world, contact=PHONE)
    chat.say("2 kg of apples please")
    chat.say("Ana")
    out = chat.say("1 Elm Street, Springfield")
    assert chat.state == "order" and "2 kg × Apples (Gala)" in out


# -- ordering ------------------------------------------------------------------------------

def test_full_order_total_is_quantity_times_catalog_price(world):
    chat = registered(world)
    assert prompts.ORDER_PROMPT in chat.say("1")
    out = chat.say("2 kg of apples and a dozen eggs")
    apple, eggs = world.catalog.get("APPLE"), world.catalog.get("EGGS")
    expected = 2 * apple.price_cents + 12 * eggs.price_cents
    assert "Added 2 kg × Apples (Gala)." in out and "Added 12 × " in out
    assert f"Total: ${expected // 100}.{expected % 100:02d}" in out
    out = chat.say("done")
    assert chat.state == "confirm" and "Shall I place it?" in out and "Deliver to: 12 Main Street" in out
    out = chat.say("yes")
    assert "Order #1001 is placed" in out and chat.state == "menu"
    assert world.orders[0]["total_cents"] == expected
    assert world.stock["APPLE"] == apple.stock - 2 and chat.conv.cart == []


def test_ordering_straight_from_the_menu_with_items(world):
    chat = registered(world)
    out = chat.say("3 bananas")
    assert chat.state == "order" and "Bananas" in out


def test_ambiguous_item_asks_which_one_and_takes_the_number(world):
    chat = registered(world)
    chat.say("1")
    out = chat.say("2 milk")
    assert "Which milk did you mean?" in out and "1. Whole milk" in out
    out = chat.say("2")
    assert "Added 2 l × Skim milk." in out
    assert chat.conv.cart == [{"sku": "MILK-SKIM", "quantity": 2}]


@pytest.mark.parametrize("answer, sku", [("skim", "MILK-SKIM"), ("the skim one", "MILK-SKIM"), ("oat milk", "MILK-OAT"),
                                          ("whole milk", "MILK-WHOLE"), ("4", "MILK-LACTOSE-FREE")])
def test_ambiguity_answered_by_name(world, answer, sku):
    chat = registered(world)
    chat.say("1")
    chat.say("milk")
    chat.say(answer)
    assert chat.conv.cart == [{"sku": sku, "quantity": 1}] and chat.conv.step is None


def test_vague_amount_asks_for_a_number(world):
    chat = registered(world)
    chat.say("1")
    out = chat.say("a few apples")
    assert "Please give a number" in out and chat.conv.cart == []


def test_ambiguity_answered_with_something_else_says_what_was_left_out(world):
    chat = registered(world)
    chat.say("1")
    chat.say("milk")
    out = chat.say("show my cart")
    assert chat.conv.step is None and out == prompts.left_out("milk") + "\n" + prompts.CART_EMPTY


def test_out_of_stock_and_only_a_few_left(world):
    chat = registered(world)
    chat.say("1")
    assert "Saffron" in chat.say("saffron") and "out of stock" in chat.replies[0].text
    out = chat.say("5 avocados")
    assert "we only have 3 of Avocados" in out
    assert chat.conv.cart == []
    assert "Added 3 × Avocados" in chat.say("3 avocados")


def test_removal_and_change_and_clear(world):
    chat = registered(world)
    chat.say("1")
    chat.say("2 kg of apples and a dozen eggs and a loaf of white bread")
    out = chat.say("no bread")
    assert "Removed White bread." in out and "bread" not in out.split("Your cart:")[1].lower()
    out = chat.say("remove the eggs")
    assert "Removed Large eggs." in out
    assert chat.conv.cart == [{"sku": "APPLE", "quantity": 2}]
    out = chat.say("change apples to 3")
    assert "Apples (Gala): now 3 kg." in out
    assert "There's no Bananas in your cart." in chat.say("remove bananas")
    assert chat.say("clear my cart").startswith(prompts.CART_CLEARED)
    assert chat.conv.cart == []


def test_unknown_product_gets_a_helpful_reply(world):
    chat = registered(world)
    chat.say("1")
    out = chat.say("2 kiwis")
    assert "kiwi" in out.lower() and ("couldn't find" in out or "don't have" in out)


def test_unknown_product_with_close_matches_suggests_them(world):
    chat = registered(world)
    chat.say("1")
    out = chat.say("mango juice")
    assert 'I couldn\'t find "mango juice". Did you mean: Orange juice' in out


def test_wrong_unit_is_explained(world):
    chat = registered(world)
    chat.say("1")
    assert chat.say("2 litres of apples").startswith("Apples (Gala) is sold by the kg.")
    assert chat.conv.cart == []


def test_product_that_left_the_catalog_is_dropped_from_the_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs and 2 kg of apples")
    world.catalog = type(world.catalog)([p for p in world.catalog if p.sku != "EGGS"])
    out = chat.say("cart")
    assert "1 item(s) in your cart are no longer sold" in out and "eggs" not in out.lower()
    assert chat.conv.cart == [{"sku": "APPLE", "quantity": 2}]


def test_absurd_zero_and_unit_quantities_are_refused(world):
    chat = registered(world)
    chat.say("1")
    assert "the most is 50 kg of Apples (Gala)" in chat.say("500 kg of apples")
    assert "above zero" in chat.say("0 apples")
    assert chat.conv.cart == []


def test_checkout_with_empty_cart_and_no_means_done(world):
    chat = registered(world)
    chat.say("1")
    assert chat.say("done") == prompts.CART_EMPTY
    chat.say("a dozen eggs")
    assert "Shall I place it?" in chat.say("no")  # "Anything else?" - "no"
    assert chat.say("maybe") == prompts.CONFIRM_YES_NO
    assert chat.say("no") == prompts.BACK_TO_ORDER and chat.state == "order"
    assert "Anything else?" in chat.say("cart")


def test_items_added_at_confirmation_go_back_to_the_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    chat.say("done")
    out = chat.say("and 2 kg of potatoes")
    assert chat.state == "order" and "Potatoes" in out


def test_stock_gone_while_confirming_trims_the_cart_and_asks_again(world):
    chat = registered(world)
    chat.say("3 avocados")
    chat.say("done")
    world.taken_by_others = {"AVOCADO": 2}  # someone else bought two after our catalog snapshot
    out = chat.say("yes")
    assert "we ran out of: Avocados" in out and "Only 1 of Avocados (Hass) is left" in out
    assert chat.state == "confirm" and "Shall I place it?" in out
    assert chat.conv.cart == [{"sku": "AVOCADO", "quantity": 1}]
    assert world.orders == []
    assert "is placed" in chat.say("yes") and world.orders[0]["lines"] == [("AVOCADO", 1)]


def test_stock_seen_lower_at_yes_trims_the_cart_before_placing(world):
    chat = registered(world)
    chat.say("3 avocados")
    chat.say("done")
    world.stock["AVOCADO"] = 1  # the catalog already shows it
    out = chat.say("yes")
    assert "Only 1 of Avocados (Hass) is left" in out and chat.state == "confirm" and world.orders == []


def test_placing_twice_with_the_same_message_is_one_order(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    chat.say("done")
    turn_key = f"api:m{chat._n + 1}"
    chat.say("yes")
    assert world.placed_keys[turn_key]["ok"] and len(world.orders) == 1


def test_unrecognised_line_while_ordering(world):
    chat = registered(world)
    chat.say("1")
    assert chat.say("(nothing)", nlu=NluResult(intent="unknown")) == prompts.DIDNT_CATCH_ORDER
    assert '"blorp"' in chat.say("blorp")  # a product-like word that matches nothing is named back
    assert chat.say("who won the game last night?") == prompts.CANT_ANSWER
    assert chat.say("yes") == prompts.ORDER_PROMPT


def test_a_line_in_another_language_gets_a_polite_english_only_answer(world):
    chat = registered(world)
    chat.say("1")
    chat.say("2 kg of apples")
    assert chat.say("quiero dos kilos de manzanas") == prompts.ENGLISH_ONLY
    assert chat.state == "order" and chat.conv.cart == [{"sku": "APPLE", "quantity": 2}]
    assert chat.say("Je voudrais du lait, s'il vous plaît") == prompts.ENGLISH_ONLY
    chat.say("done")
    assert chat.say("sí") == prompts.ENGLISH_ONLY and chat.state == "confirm"


def test_a_greeting_in_another_language_still_starts_the_conversation(world):
    chat = Chat(world, contact=PHONE)
    assert "What's your name?" in chat.say("hola, quiero pedir")
    assert chat.say("José García") == prompts.ASK_ADDRESS.format(name="José García")


# -- status, cancel, delete ---------------------------------------------------------------

def place(chat, text="a dozen eggs"):
    chat.say(text)
    chat.say("done")
    return chat.say("yes")


def test_order_status_lists_own_orders(world):
    chat = registered(world)
    assert chat.say("2") == prompts.NO_ORDERS
    place(chat)
    out = chat.say("order status")
    assert "#1001" in out and "confirmed" in out


def test_cancel_an_order_restores_stock(world):
    chat = registered(world)
    before = world.stock["EGGS"]
    place(chat)
    out = chat.say("3")
    assert "Cancel order #1001" in out and chat.state == "cancel"
    out = chat.say("yes")
    assert out.startswith("Order #1001 is cancelled.") and chat.state == "menu"
    assert world.stock["EGGS"] == before and world.orders[0]["status"] == "cancelled"
    assert chat.say("cancel my order") == prompts.NOTHING_TO_CANCEL


def test_cancel_choose_among_several_and_decline(world):
    chat = registered(world)
    place(chat)
    place(chat, "2 kg of apples")
    out = chat.say("cancel order")
    assert "Which order should I cancel?" in out and "#1002" in out and "#1001" in out
    assert "Cancel order #1001" in chat.say("2")
    assert chat.say("no").startswith(prompts.KEEP_ORDER) and chat.state == "menu"
    chat.say("3")
    assert chat.say("no").startswith(prompts.KEEP_ORDER)


def test_cancel_too_late_once_dispatched(world):
    chat = registered(world)
    place(chat)
    chat.say("3")
    world.orders[0]["status"] = "out_for_delivery"  # the shop dispatched it meanwhile
    assert "can no longer be cancelled" in chat.say("yes")


def test_delete_my_data_asks_then_erases(world):
    chat = registered(world)
    out = chat.say("4")
    assert out == prompts.DELETE_CONFIRM and chat.state == "delete"
    assert chat.say("hmm") == prompts.DELETE_CONFIRM
    assert chat.say("no").startswith(prompts.NOT_DELETED) and chat.state == "menu"
    chat.say("delete my data")
    out = chat.say("yes")
    assert out == prompts.DELETED and chat.state == "greeting"
    assert PHONE not in world.customers and world.erased == [PHONE]
    assert chat.conv.phone is None and chat.conv.name is None and chat.conv.history == []


# -- global words, menu, help --------------------------------------------------------------

def test_help_everywhere_mentions_where_you_are(world):
    chat = Chat(world)
    chat.say("hi")
    assert "phone number" in chat.say("help")
    chat = registered(world, phone="+14155550100")
    chat.say("1")
    assert "you're shopping" in chat.say("help")


def test_menu_word_returns_to_menu_keeping_the_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    assert "1. Place an order" in chat.say("menu") and chat.state == "menu"
    assert chat.conv.cart and "Anything else?" in chat.say("show my cart")


def test_menu_before_registration_asks_to_finish_first(world):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    out = chat.say("menu")
    assert out.startswith(prompts.SET_UP_FIRST) and chat.state == "register"


def test_cancel_word_while_shopping_empties_the_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    out = chat.say("cancel")
    assert out.startswith(prompts.CART_CLEARED) and chat.state == "menu" and chat.conv.cart == []


def test_cancel_word_during_verification_stops(world):
    chat = Chat(world)
    chat.say("hi")
    assert chat.say("cancel") == prompts.STOPPED and chat.state == "greeting"


def test_restart_starts_over_but_keeps_who_you_are(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    out = chat.say("restart")
    assert out.startswith(prompts.RESTARTED) and "Welcome back, Ana Lima" in out
    assert chat.state == "menu" and chat.conv.cart == []


def test_menu_bad_choice_and_greeting(world):
    chat = registered(world)
    assert chat.say("9") == prompts.DIDNT_CATCH_MENU
    assert chat.say("blorp") == prompts.DIDNT_CATCH_MENU
    assert chat.say("hello").startswith("Welcome back, Ana Lima!")
    assert "I'm the shop's ordering assistant" in chat.say("5")


def test_over_the_rate_limit_is_answered_once_and_not_acted_on(world):
    chat = registered(world)
    chat.say("1")
    assert chat.say("2 kg of apples", kind="throttled") == prompts.SLOW_DOWN
    assert chat.say("3 kg of apples", kind="throttled_quiet") == ""
    assert chat.conv.cart == [] and chat.state == "order"


def test_non_text_message_gets_a_polite_answer(world):
    chat = Chat(world)
    assert chat.say("", kind="media") == prompts.NOT_TEXT
    assert chat.state == "greeting"


def test_idle_reset_keeps_identity_and_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    effects = sm.idle_reset(chat.conv, chat.now + 3600, keep_cart=True)
    assert [e.kind for e in effects] == ["Count"] and chat.conv.state == "greeting"
    out = chat.say("hi")
    assert "Welcome back, Ana Lima!" in out and chat.state == "order" and "Large eggs" in out


def test_menu_as_the_first_word_after_an_idle_timeout(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    sm.idle_reset(chat.conv, chat.now + 3600, keep_cart=True)
    out = chat.say("menu")
    assert out.startswith("Welcome back, Ana Lima!") and "1. Place an order" in out and chat.state == "menu"
    assert chat.conv.cart == [{"sku": "EGGS", "quantity": 12}]


def test_idle_reset_can_drop_the_cart(world):
    chat = registered(world)
    chat.say("a dozen eggs")
    sm.idle_reset(chat.conv, chat.now + 3600, keep_cart=False)
    assert chat.conv.cart == [] and chat.conv.phone == PHONE


def test_machine_is_built_once_and_models_are_removed():
    m = machine()
    assert machine() is m
    world = sample_world()
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    assert m.models == [] and not hasattr(chat.conv, "shop")


def test_explicit_nlu_result_drives_the_machine_without_a_parser(world):
    chat = registered(world)
    out = chat.say("(ignored)", nlu=NluResult(intent="add_items", items=[ItemRequest(sku="COFFEE", quantity=2)]))
    assert "Added 2 bags × Ground coffee" in out and chat.conv.cart == [{"sku": "COFFEE", "quantity": 2}]


def test_conversation_round_trips_and_rejects_other_schema_versions(world):
    chat = registered(world)
    d = chat.conv.to_dict()
    assert sm.Conversation.from_dict(d).to_dict() == d
    with pytest.raises(ValueError):
        sm.Conversation.from_dict({**d, "version": 99})


# -- talking to a person -------------------------------------------------------------------

def test_talk_to_a_person_from_the_menu_waits_quietly_for_an_operator(world):
    chat = registered(world)
    out = chat.say("6")
    assert out == prompts.HANDOFF_STARTED and chat.state == "handoff"
    assert chat.effect_kinds() == ["RequestHandoff"] and world.waiting == [PHONE]
    # while a person has the conversation the bot says nothing, whatever the customer writes
    assert chat.say("hello? my eggs were broken") == "" and chat.say("help") == "" and chat.say("menu") == ""
    assert chat.conv.history[-1] == ["customer", "menu"]
    assert chat.say("", kind="media") == "" and chat.state == "handoff"


def test_free_text_asks_for_a_person_in_any_state_even_before_identification(world):
    chat = Chat(world)
    chat.say("hi")
    assert chat.say("I want to talk to a real person") == prompts.HANDOFF_STARTED
    assert chat.state == "handoff" and world.waiting == ["api:u1"]
    shopping = registered(world, phone="+14155550100")
    shopping.say("a dozen eggs")
    assert shopping.say("customer service") == prompts.HANDOFF_STARTED and shopping.conv.cart  # the cart stays


def test_operator_reply_is_said_verbatim_and_hand_back_returns_to_the_menu(world):
    chat = registered(world)
    chat.say("talk to a person")
    out = chat.say("Hi Ana, this is Sam from the shop. Sorry about the eggs!", kind="operator_reply")
    assert out == "Hi Ana, this is Sam from the shop. Sorry about the eggs!" and chat.state == "handoff"
    assert chat.conv.history[-1] == ["operator", "Hi Ana, this is Sam from the shop. Sorry about the eggs!"]
    out = chat.say("", kind="handback")
    assert out.startswith(prompts.HANDED_BACK) and "1. Place an order" in out and chat.state == "menu"
    assert chat.effect_kinds() == ["EndHandoff"] and world.waiting == []
    assert "Added 12" in chat.say("a dozen eggs")  # the bot answers again
    assert chat.say("", kind="handback") != prompts.HANDED_BACK  # a second hand-back changes nothing


def test_hand_back_before_identification_starts_over(world):
    chat = Chat(world)
    chat.say("hi")
    chat.say("a person")
    assert chat.say("", kind="handback") == prompts.HANDED_BACK and chat.state == "greeting"
    assert prompts.ASK_PHONE in chat.say("hello")


def test_restart_is_the_customers_way_out_of_waiting(world):
    chat = registered(world)
    chat.say("speak to an agent")
    out = chat.say("restart")
    assert out.startswith(prompts.RESTARTED) and chat.state == "menu" and world.waiting == []


def test_an_idle_timeout_does_not_end_a_wait_for_a_person(world):
    chat = registered(world)
    chat.say("talk to a human")
    assert sm.idle_reset(chat.conv, chat.now + 7200, keep_cart=True) == [] and chat.conv.state == "handoff"
    assert chat.say("anyone there?") == ""
