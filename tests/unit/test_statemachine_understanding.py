"""Tier 1, the conversation alone: what a customer notices when the bot understands them the first
time: pieces of by-weight products, limits named, answers to "which one?", questions answered,
names and addresses taken as people give them. (test_replies_reachable runs these too.)"""
from __future__ import annotations

import pytest

from statemachine import prompts
from tests.support.conversation import Chat, sample_world

PHONE = "+14155552681"


@pytest.fixture
def world():
    return sample_world()


def shopping(world, phone=PHONE) -> Chat:
    chat = Chat(world, contact=phone)
    chat.say("hi")
    chat.say("Ana Lima")
    chat.say("12 Main Street, Springfield")
    chat.say("1")
    assert chat.state == "order"
    return chat


def cart(chat) -> dict:
    return {line["sku"]: line["quantity"] for line in chat.conv.cart}


# -- counts and weights ----------------------------------------------------------------------------

def test_pieces_of_a_by_weight_product_become_weight_and_the_reply_says_so(world):
    chat = shopping(world)
    out = chat.say("6 bananas")
    assert "Added 6 × Bananas, about 1.2 kg." in out and "1.2 kg × Bananas — $1.74" in out
    assert cart(chat) == {"BANANA": 1.2}
    assert "Added 3 × Apples (Gala), about 0.51 kg." in chat.say("3 apples")
    assert "Bananas: now 2.4 kg (about 12)." in chat.say("make it 12 bananas")
    assert "Apples (Gala): now 2 kg." in chat.say("change apples to 2 kg")


def test_pieces_without_a_piece_weight_are_asked_about(world):
    chat = shopping(world)
    out = chat.say("6 grapes")
    assert out.startswith(prompts.by_weight("Red seedless grapes", "kg")) and cart(chat) == {}
    assert "Added 0.5 kg × Red seedless grapes" in chat.say("half a kilo of grapes")


def test_too_little_and_too_much_are_refused_naming_the_limit(world):
    chat = shopping(world)
    assert chat.say("0.001 kg of apples").startswith("The smallest amount of Apples (Gala) I can sell is 0.1 kg.")
    assert "the most is 50 kg of Apples (Gala)" in chat.say("1,000,000 apples")
    assert "the most is 50 of Large eggs" in chat.say("1,000 eggs")
    assert cart(chat) == {}


def test_stock_keeps_its_fraction(world):
    chat = shopping(world)
    assert "we only have 42.5 kg of Red seedless grapes left" in chat.say("45 kg of grapes")
    assert "Added 42.5 kg × Red seedless grapes" in chat.say("42.5 kg of grapes")


def test_counted_units_are_plural_past_one(world):
    chat = shopping(world)
    out = chat.say("3 cans of tuna and a loaf of white bread and 2 loaves of whole wheat bread")
    assert "Added 3 cans × Canned tuna." in out and "Added 1 loaf × White bread." in out
    assert "• 2 loaves × Whole wheat bread" in out


def test_a_very_long_order_is_read_in_part_and_the_customer_told(world):
    chat = shopping(world)
    lines = ["a can of tuna", "a jar of honey", "a box of salt", "a bag of rice", "a bottle of cola"] * 5
    out = chat.say(", ".join(lines))
    assert out.count("Added") == 20 and prompts.READ_PART in out and len(out) < 4096
    out = chat.say("apple " * 900)  # one name 900 times: one quoted, clipped reply, not 900
    assert len(out) < 1000


# -- which one did you mean? -------------------------------------------------------------------

@pytest.mark.parametrize("answer, sku", [
    ("oat", "MILK-OAT"), ("whole please", "MILK-WHOLE"), ("oat milk", "MILK-OAT"), ("the first one", "MILK-WHOLE"),
    ("the cheaper one", "MILK-SKIM"), ("the most expensive", "MILK-OAT"), ("the last one", "MILK-LACTOSE-FREE"),
    ("lactose free", "MILK-LACTOSE-FREE"), ("skimmed", "MILK-SKIM"), ("wole", "MILK-WHOLE"), ("3", "MILK-OAT"),
])
def test_clarify_answers_pick_among_the_offered_options(world, answer, sku):
    chat = shopping(world)
    assert "Which milk did you mean?" in chat.say("2 milk")
    out = chat.say(answer)
    assert cart(chat) == {sku: 2} and chat.conv.step is None and "Your cart:" in out


def test_an_answer_that_fits_no_option_asks_again_listing_them(world):
    chat = shopping(world)
    chat.say("milk")
    out = chat.say("hmm, not sure")
    assert out.startswith("Sorry, I still don't know which milk you meant.") and "3. Oat milk" in out
    out = chat.say("soy")
    assert 'we don\'t have "soy"' in out and "Which milk did you mean?" in out and chat.conv.step == "clarify"
    assert "Your cart:" in chat.say("2") and cart(chat) == {"MILK-SKIM": 1}


def test_a_question_while_asking_is_answered_and_the_question_stays_open(world):
    chat = shopping(world)
    chat.say("milk")
    out = chat.say("how much is the oat milk?")
    assert out.startswith("Oat milk: $2.39/l.") and "Which milk did you mean?" in out and cart(chat) == {}
    chat.say("oat")
    assert cart(chat) == {"MILK-OAT": 1}


def test_none_leaves_the_item_out_and_says_so(world):
    chat = shopping(world)
    chat.say("milk")
    assert chat.say("none").startswith(prompts.skipped("milk"))
    chat.say("milk")
    assert chat.say("no milk").startswith(prompts.skipped("milk"))
    assert cart(chat) == {} and chat.conv.step is None


def test_several_ambiguities_are_asked_one_after_the_other(world):
    chat = shopping(world)
    out = chat.say("milk and bread and 2 kg of apples")
    assert "Added 2 kg × Apples" in out and "Which milk did you mean?" in out and "bread" not in out.lower()
    out = chat.say("oat")
    assert "Added 1 l × Oat milk." in out and "Which bread did you mean?" in out
    out = chat.say("whole wheat")
    assert cart(chat) == {"APPLE": 2, "MILK-OAT": 1, "BREAD-WHEAT": 1} and "Your cart:" in out


def test_other_items_while_asking_keep_the_question_open(world):
    chat = shopping(world)
    chat.say("milk")
    out = chat.say("2 kg of apples")
    assert "Added 2 kg × Apples" in out and "Which milk did you mean?" in out
    chat.say("skim")
    assert cart(chat) == {"APPLE": 2, "MILK-SKIM": 1}


# -- names and addresses ---------------------------------------------------------------------------

@pytest.mark.parametrize("said, name", [
    ("My name is John Smith", "John Smith"), ("I am Maria Lopez", "Maria Lopez"), ("I'm Ana", "Ana"),
    ("it's Tom", "Tom"), ("call me Bea", "Bea"), ("hi, I'm Sam O'Neil", "Sam O'Neil"), ("john smith", "John Smith"),
    ("Maria here, thanks", "Maria"), ("José García", "José García"),
])
def test_a_name_is_taken_from_how_people_say_it(world, said, name):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    assert chat.say(said) == prompts.ASK_ADDRESS.format(name=name)
    assert f"You're all set, {name}." in chat.say("12 Main Street, Springfield")
    assert world.customers[PHONE]["name"] == name


@pytest.mark.parametrize("said", ["hello", "yes", "12345", "my name is", "2 kg of apples"])
def test_what_is_not_a_name_is_asked_again(world, said):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    assert chat.say(said) == prompts.BAD_NAME and chat.conv.step == "name"


@pytest.mark.parametrize("said, address", [
    ("My address is 7 Elm Road, Springfield", "7 Elm Road, Springfield"), ("221B Baker St, London", "221B Baker St, London"),
    ("Flat 3, Rose Court, Leeds", "Flat 3, Rose Court, Leeds"), ("it's 12 Main Street", "12 Main Street"),
    ("Rose Cottage, Little Snoring, Norfolk", "Rose Cottage, Little Snoring, Norfolk"),
])
def test_an_address_is_taken_when_it_looks_like_one(world, said, address):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    chat.say("Ana")
    chat.say(said)
    assert world.customers[PHONE]["address"] == address and chat.state == "menu"


@pytest.mark.parametrize("said", ["hello there", "I don't know", "asdf", "where do you deliver?", "Springfield"])
def test_what_does_not_look_like_an_address_is_asked_again_with_an_example(world, said):
    chat = Chat(world, contact=PHONE)
    chat.say("hi")
    chat.say("Ana")
    out = chat.say(said)
    assert out == prompts.BAD_ADDRESS and "12 Main Street, Springfield" in out and PHONE not in world.customers


def test_a_shop_can_relax_the_address_check(world):
    from bot.nlu.offline import OfflineParser

    chat = Chat(world, contact=PHONE)
    chat.parser = OfflineParser(world.catalog, address_check="lenient")
    chat.say("hi")
    chat.say("Ana")
    chat.say("Springfield")
    assert world.customers[PHONE]["address"] == "Springfield"


def test_change_my_address_from_the_menu_is_saved_and_recorded(world):
    chat = shopping(world)
    chat.say("menu")
    assert chat.say("change my address") == prompts.ASK_NEW_ADDRESS and chat.conv.step == "address"
    assert chat.say("nowhere") == prompts.BAD_ADDRESS
    out = chat.say("5 Oak Road, Springfield")
    assert out.startswith(prompts.address_changed("5 Oak Road, Springfield")) and "1. Place an order" in out
    assert world.customers[PHONE]["address"] == "5 Oak Road, Springfield" and chat.effect_kinds() == ["UpdateCustomer"]
    assert [c["field"] for c in world.customers[PHONE]["changes"]] == ["address"]
    out = chat.say("change my name to Ana Maria Lima")
    assert out.startswith(prompts.name_changed("Ana Maria Lima")) and world.customers[PHONE]["name"] == "Ana Maria Lima"


def test_change_my_address_at_confirm_shows_the_order_with_the_new_address(world):
    chat = shopping(world)
    chat.say("a dozen eggs")
    chat.say("done")
    assert chat.say("change my address") == prompts.ASK_NEW_ADDRESS and chat.state == "confirm"
    out = chat.say("cancel")  # cancels the change, not the order
    assert out.startswith(prompts.DETAILS_KEPT) and "Deliver to: 12 Main Street" in out and chat.conv.cart
    chat.say("wrong address")
    out = chat.say("9 Pine Avenue, Shelbyville")
    assert "Deliver to: 9 Pine Avenue, Shelbyville" in out and "Shall I place it?" in out
    assert "We'll deliver to 9 Pine Avenue, Shelbyville" in chat.say("yes")
    assert world.customers[PHONE]["address"] == "9 Pine Avenue, Shelbyville"


def test_change_my_name_while_shopping_keeps_the_cart(world):
    chat = shopping(world)
    chat.say("2 kg of apples")
    assert chat.say("change my name") == prompts.ASK_NEW_NAME
    assert chat.say("no") == prompts.DETAILS_KEPT + "\n" + prompts.ANYTHING_ELSE
    chat.say("change my name")
    assert chat.say("it's Anna").startswith(prompts.name_changed("Anna")) and cart(chat) == {"APPLE": 2}


# -- questions answered offline ---------------------------------------------------------------------

@pytest.mark.parametrize("question, answer", [
    ("How much is delivery?", prompts.RULE_FREE_DELIVERY),  # this shop sets no fee: its rules say so
    ("How can I pay?", "You can pay on delivery (cash or card)."),
    ("how much are tomatoes?", "Tomatoes (on the vine): $5.49/kg."),
    ("I want to know the price of eggs", "Large eggs: $0.35 each."),
    ("price of pineapple", "Pineapple: $2.99 each (out of stock right now)."),
    ("do you have apples?", "Yes, we have Apples (Gala), at $4.39/kg."),
    ("is saffron available?", "Sorry, Saffron threads is out of stock right now."),
    ("what fruit do you have", "Our fruit:\n• Apples (Gala): $4.39/kg\n• Bananas: $1.45/kg"),
    ("how much is milk", "Our milk:\n• Whole milk: $1.29/l\n• Skim milk: $1.25/l"),
    ("how much are apples and bananas?", "Here are the prices:\n• Apples (Gala): $4.39/kg\n• Bananas: $1.45/kg"),
    ("what do you sell?", "We sell: Fruit, Vegetables, Dairy, Bakery, Pantry"),
    ("do you have kiwis?", 'Sorry, we don\'t have "kiwis".'),
    ("is the cheddar lactose free?", "Cheddar cheese ($3.49/pack): Mild cheddar, 8 oz (227 g) block"),
    ("who won the game last night?", prompts.CANT_ANSWER),
])
def test_questions_are_answered_offline_from_the_catalog_and_faq(world, question, answer):
    chat = shopping(world)
    out = chat.say(question)
    assert out.startswith(answer) and cart(chat) == {} and chat.state == "order"


def test_a_long_list_is_cut_and_counted(world):
    chat = shopping(world)
    out = chat.say("what vegetables do you have?")
    assert out.startswith("Our vegetables:") and out.count("•") == 12 and "…and 4 more." in out


def test_questions_from_the_menu_at_confirm_and_before_identification(world):
    chat = shopping(world)
    chat.say("menu")
    assert chat.say("when are you open?").startswith("Monday to Saturday 8 am to 9 pm") and chat.state == "menu"
    chat.say("a dozen eggs")
    chat.say("done")
    out = chat.say("is there a minimum order?")
    assert out.startswith(prompts.RULE_NO_MINIMUM) and "Shall I place it?" in out
    newcomer = Chat(world, identity="api:new")
    out = newcomer.say("how much is delivery?")
    assert out.startswith(prompts.RULE_FREE_DELIVERY) and prompts.ASK_PHONE in out and newcomer.state == "verify"
