"""The offline parser against a small grocery catalog: intents, items, quantities, refusals.

Each case asserts the outcome the conversation acts on (sku, quantity, action, intent), because
a wrong product in a cart is the failure that matters.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext, NluResult
from bot.shop.catalog import Catalog, Product


def _p(sku, name, unit, aliases=(), **more):
    return Product(sku=sku, name=name, unit=unit, price_cents=199, stock=100, aliases=tuple(aliases), **more)


PRODUCTS = [
    _p("apples", "Apples", "kg", each_grams=200), _p("bananas", "Bananas", "kg", each_grams=250),
    _p("oranges", "Oranges", "kg"), _p("tomatoes", "Tomatoes", "kg"), _p("potatoes", "Potatoes", "kg"),
    _p("onions", "Onions", "kg", each_grams=100),
    _p("carrots", "Carrots", "kg"), _p("milk-whole", "Whole milk", "l"), _p("milk-skim", "Skim milk", "l"),
    _p("eggs", "Eggs", "each"), _p("butter", "Butter", "pack"),
    _p("cheddar", "Cheddar cheese", "pack", ["cheddar"]), _p("yogurt", "Yogurt", "each"),
    _p("bread", "Bread", "loaf", ["loaf"]), _p("rice", "Rice", "kg"), _p("pasta", "Pasta", "pack"),
    _p("chicken-breast", "Chicken breast", "kg"), _p("ground-beef", "Ground beef", "kg"),
    _p("orange-juice", "Orange juice", "l"), _p("apple-juice", "Apple juice", "l"),
    _p("half-and-half", "Half & half", "each"), _p("flour", "All-purpose flour", "bag"),
]


@pytest.fixture(scope="module")
def parser():
    return OfflineParser(Catalog(PRODUCTS))


def run(parser, text, state="order", **ctx):
    return parser.understand(text, NluContext(state=state, **ctx))


def items(result: NluResult):
    return [(i.sku, i.quantity, i.action) for i in result.items]


# -- items ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # digits, units and conversions into the product's unit
    ("2 kg of apples", [("apples", 2, "add")]),
    ("2kg apples", [("apples", 2, "add")]),
    ("500 g of rice", [("rice", 0.5, "add")]),
    ("1.5 kg chicken breast", [("chicken-breast", 1.5, "add")]),
    ("1,5 kg of carrots", [("carrots", 1.5, "add")]),
    ("1 1/2 kg of carrots", [("carrots", 1.5, "add")]),
    ("a litre of whole milk", [("milk-whole", 1, "add")]),
    ("750 ml skim milk", [("milk-skim", 0.75, "add")]),
    ("2 packs of pasta", [("pasta", 2, "add")]),
    ("2 loaves of bread", [("bread", 2, "add")]),
    ("a loaf", [("bread", 1, "add")]),
    ("2 x butter", [("butter", 2, "add")]),
    ("apples 2 kg", [("apples", 2, "add")]),
    ("change apples to 3 kg", [("apples", 3, "set")]),
    # number words
    ("a dozen eggs", [("eggs", 12, "add")]),
    ("half a dozen eggs", [("eggs", 6, "add")]),
    ("two dozen eggs", [("eggs", 24, "add")]),
    ("twelve eggs", [("eggs", 12, "add")]),
    ("twenty-one eggs", [("eggs", 21, "add")]),
    ("two bananas", [("bananas", 0.5, "add")]),  # pieces of a by-weight product
    ("a couple of onions", [("onions", 0.2, "add")]),
    ("a dozen apples", [("apples", 2.4, "add")]),
    ("three and a half kg of potatoes", [("potatoes", 3.5, "add")]),
    ("half a kilo of apples", [("apples", 0.5, "add")]),
    ("a kilo and a half of tomatoes", [("tomatoes", 1.5, "add")]),
    ("an orange juice", [("orange-juice", 1, "add")]),
    # a bare product is one of its unit; plurals either way
    ("apples", [("apples", 1, "add")]),
    ("apple", [("apples", 1, "add")]),
    ("tomatoes", [("tomatoes", 1, "add")]),
    ("potato", [("potatoes", 1, "add")]),
    ("eggs please", [("eggs", 1, "add")]),
    ("some yogurt", [("yogurt", 1, "add")]),
    # typos
    ("bananna", [("bananas", 1, "add")]),
    ("tomatos", [("tomatoes", 1, "add")]),
    ("potatos", [("potatoes", 1, "add")]),
    ("chiken breast", [("chicken-breast", 1, "add")]),
    ("2 kg of chiken brest", [("chicken-breast", 2, "add")]),
    ("yoghurt", [("yogurt", 1, "add")]),
    ("2 kg aples", [("apples", 2, "add")]),
    # similar names resolve by what was typed
    ("2 orange juice", [("orange-juice", 2, "add")]),
    ("2 kg oranges", [("oranges", 2, "add")]),
    ("oranges and orange juice", [("oranges", 1, "add"), ("orange-juice", 1, "add")]),
    ("apple juice", [("apple-juice", 1, "add")]),
    ("cheddar", [("cheddar", 1, "add")]),
    ("2 cheddar cheese", [("cheddar", 2, "add")]),
    ("cheese", [("cheddar", 1, "add")]),  # the only cheese
    ("beef", [("ground-beef", 1, "add")]),
    ("whole milk", [("milk-whole", 1, "add")]),
    # several items in one line
    ("2 kg of apples, a dozen eggs and whole milk",
     [("apples", 2, "add"), ("eggs", 12, "add"), ("milk-whole", 1, "add")]),
    ("apples and bananas", [("apples", 1, "add"), ("bananas", 1, "add")]),
    ("apples, bananas & carrots", [("apples", 1, "add"), ("bananas", 1, "add"), ("carrots", 1, "add")]),
    ("2 apples 3 bananas", [("apples", 0.4, "add"), ("bananas", 0.75, "add")]),
    ("apples bananas", [("apples", 1, "add"), ("bananas", 1, "add")]),
    ("I'd like 2 kg of apples please", [("apples", 2, "add")]),
    ("I'd like to order 2 kg of rice", [("rice", 2, "add")]),
    ("can I get 3 kg of potatoes?", [("potatoes", 3, "add")]),
    ("hi, 2 kg of apples", [("apples", 2, "add")]),
    ("I want apples for delivery tomorrow", [("apples", 1, "add")]),
    ("I'll take 2 kg of apples", [("apples", 2, "add")]),
    ("another loaf", [("bread", 1, "add")]),
    ("a bag of flour", [("flour", 1, "add")]),
    # names holding words the parser otherwise reads as numbers, separators or units
    ("2 half and half", [("half-and-half", 2, "add")]),
    ("half & half and a dozen eggs", [("half-and-half", 1, "add"), ("eggs", 12, "add")]),
    ("2 bags of all-purpose flour", [("flour", 2, "add")]),
    ("all purpose flour", [("flour", 1, "add")]),
    ("also 2 bananas", [("bananas", 0.5, "add")]),
    # removals
    ("no bread", [("bread", 0, "remove")]),
    ("remove the eggs", [("eggs", 0, "remove")]),
    ("take off the whole milk", [("milk-whole", 0, "remove")]),
    ("take the butter out", [("butter", 0, "remove")]),
    ("without bananas", [("bananas", 0, "remove")]),
    ("cancel the eggs", [("eggs", 0, "remove")]),
    ("remove the eggs and the butter", [("eggs", 0, "remove"), ("butter", 0, "remove")]),
    ("remove 1 kg of apples", [("apples", 1, "remove")]),
    ("no bread, 2 kg apples", [("bread", 0, "remove"), ("apples", 2, "add")]),
    ("remove the eggs and add 2 kg of rice", [("eggs", 0, "remove"), ("rice", 2, "add")]),
    # set quantity
    ("make it 3 apples", [("apples", 0.6, "set")]),
    ("change apples to 3", [("apples", 3, "set")]),
    ("change the eggs to 6", [("eggs", 6, "set")]),
    ("make it 3 apples and 2 bananas", [("apples", 0.6, "set"), ("bananas", 0.5, "set")]),
    ("make it 0 apples", [("apples", 0, "remove")]),
])
def test_items(parser, text, expected):
    result = run(parser, text)
    assert result.intent == "add_items", result
    assert items(result) == expected
    assert not result.ambiguous and not result.invalid and not result.unknown
    assert all(i.unit == parser.catalog.get(i.sku).unit for i in result.items)
    assert result.source == "offline"


@pytest.mark.parametrize("text, candidates, quantity, action", [
    ("milk", {"milk-whole", "milk-skim"}, 1, "add"),
    ("a litre of milk", {"milk-whole", "milk-skim"}, 1, "add"),
    ("2 milk", {"milk-whole", "milk-skim"}, 2, "add"),
    ("remove the milk", {"milk-whole", "milk-skim"}, 0, "remove"),
    ("juice", {"orange-juice", "apple-juice"}, 1, "add"),
])
def test_a_name_matching_several_products_asks(parser, text, candidates, quantity, action):
    result = run(parser, text)
    assert result.intent == "add_items"
    assert not result.items
    [amb] = result.ambiguous
    assert set(amb.candidates) == candidates
    assert (amb.quantity, amb.action) == (quantity, action)


def test_ambiguity_next_to_clear_items(parser):
    result = run(parser, "2 kg of apples, a dozen eggs and milk")
    assert items(result) == [("apples", 2, "add"), ("eggs", 12, "add")]
    assert [set(a.candidates) for a in result.ambiguous] == [{"milk-whole", "milk-skim"}]


def test_an_alias_equal_to_the_phrase_wins():
    catalog = Catalog([_p("milk-whole", "Whole milk", "l", ["milk"]), _p("milk-skim", "Skim milk", "l")])
    result = run(OfflineParser(catalog), "2 milk")
    assert items(result) == [("milk-whole", 2, "add")] and not result.ambiguous


@pytest.mark.parametrize("text, unknown_text", [
    ("kiwi", "kiwi"),
    ("2 dragon fruit", "dragon fruit"),
    ("apple pie", "apple pie"),
    ("beer", "beer"),  # one letter from "beef", still not beef
])
def test_unknown_products_are_reported_not_guessed(parser, text, unknown_text):
    result = run(parser, text)
    assert result.intent == "unknown"
    assert not result.items and not result.ambiguous
    assert [u.text for u in result.unknown] == [unknown_text]


def test_unknown_next_to_known_items(parser):
    result = run(parser, "2 kg of apples and a kiwi")
    assert result.intent == "add_items"
    assert items(result) == [("apples", 2, "add")]
    assert [u.text for u in result.unknown] == ["kiwi"]


def test_unknown_carries_close_suggestions(parser):
    [unknown] = run(parser, "chicken").unknown  # only "Chicken breast" has that word, not as its noun
    assert unknown.suggestions == ["chicken-breast"]
    [unknown] = run(parser, "apple pie").unknown
    assert "apples" in unknown.suggestions


@pytest.mark.parametrize("text, reason, sku, quantity", [
    ("0 apples", "zero", "apples", 0),
    ("zero eggs", "zero", "eggs", 0),
    ("-2 apples", "negative", "apples", -0.4),
    ("300 apples", "too_large", "apples", 60),  # 300 pieces are 60 kg
    ("1,000,000 apples", "too_large", "apples", 200_000),
    ("6 carrots", "count", "carrots", 6),  # no piece weight in the catalog: ask for kg
    ("0.001 kg of apples", "too_small", "apples", 0.001),
    ("50 g of carrots", "too_small", "carrots", 0.05),
    ("51 kg of potatoes", "too_large", "potatoes", 51),
    ("5 dozen eggs", "too_large", "eggs", 60),
    ("a million eggs", "too_large", "eggs", 1_000_000),
    ("2 litres of apples", "unit", "apples", 2),
    ("500 g butter", "unit", "butter", 500),
    ("1.5 eggs", "unit", "eggs", 1.5),
    ("half a loaf of bread", "unit", "bread", 0.5),
    ("a carton of eggs", "unit", "eggs", 1),  # a carton is not a number of eggs
    ("a few apples", "unit", "apples", None),  # "few" is not a number: refuse to guess
    ("several eggs", "unit", "eggs", None),
    ("0 milk", "zero", None, 0),  # refused before asking which milk
])
def test_refused_quantities(parser, text, reason, sku, quantity):
    result = run(parser, text)
    assert result.intent == "add_items"
    assert not result.items and not result.ambiguous
    [bad] = result.invalid
    assert (bad.reason, bad.sku, bad.quantity) == (reason, sku, quantity)


def test_quantity_cap_comes_from_the_context_then_the_constructor():
    parser = OfflineParser(Catalog(PRODUCTS), max_quantity=5)
    assert items(run(parser, "12 eggs", max_quantity=12)) == [("eggs", 12, "add")]
    assert run(parser, "13 eggs", max_quantity=12).invalid[0].reason == "too_large"
    assert items(run(parser, "50 kg of potatoes", max_quantity=50)) == [("potatoes", 50, "add")]
    assert run(parser, "6 eggs", max_quantity=0).invalid[0].reason == "too_large"  # no cap given: 5
    assert items(run(parser, "5 eggs", max_quantity=0)) == [("eggs", 5, "add")]


@pytest.mark.parametrize("text, quantity", [
    ("a dozen eggs", 1), ("eggs", 1), ("2 dozen eggs", 2), ("24 eggs", 2), ("half a dozen eggs", None),
    ("6 eggs", None),
])
def test_products_sold_by_the_dozen(text, quantity):
    parser = OfflineParser(Catalog([_p("eggs", "Eggs", "dozen")]))
    result = run(parser, text)
    if quantity is None:
        assert result.invalid[0].reason == "unit" and not result.items
    else:
        assert items(result) == [("eggs", quantity, "add")]


@pytest.mark.parametrize("text, quantity", [("500 g cheese", 0.5), ("a kilo of cheese", 1), ("250g of cheese", 0.25)])
def test_weighed_products_take_grams(text, quantity):
    parser = OfflineParser(Catalog([_p("gouda", "Gouda cheese", "kg")]))
    assert items(run(parser, text)) == [("gouda", quantity, "add")]


# -- precision: ordinary words never become products -------------------------------------------

@pytest.mark.parametrize("text", [
    "I want", "please", "and", "some", "of", "the", "a couple", "for delivery", "thanks",
    "hi there", "ok then", "I would like some", "a few", "make it 3", "the one",
])
def test_ordinary_words_add_nothing(parser, text):
    result = run(parser, text)
    assert not result.items and not result.ambiguous and not result.invalid
    assert result.intent != "add_items"


def test_no_items_are_read_while_registering(parser):
    result = run(parser, "John Smith", state="register")
    assert result.intent == "unknown" and not result.items and not result.unknown
    assert not run(parser, "2 kg apples", state="register").items


# -- intents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, intent", [
    ("hi", "greeting"), ("hello", "greeting"), ("/start", "greeting"), ("hey there!", "greeting"),
    ("good morning", "greeting"),
    ("I'd like to order", "order"), ("place an order", "order"), ("order", "order"),
    ("hello, I'd like to place an order", "order"),
    ("what's in my cart", "show_cart"), ("what's in my cart?", "show_cart"), ("show cart", "show_cart"),
    ("cart", "show_cart"),
    ("empty my cart", "clear_cart"), ("clear cart", "clear_cart"), ("remove everything", "clear_cart"),
    ("done", "checkout"), ("checkout", "checkout"), ("that's all", "checkout"), ("that's it", "checkout"),
    ("I'm done, thanks", "checkout"),
    ("yes", "yes"), ("y", "yes"), ("yep", "yes"), ("yeah", "yes"), ("sure", "yes"), ("ok", "yes"),
    ("okay", "yes"), ("confirm", "yes"), ("correct", "yes"), ("yes please", "yes"), ("Yes!", "yes"),
    ("no", "no"), ("n", "no"), ("nope", "no"), ("not now", "no"), ("no thanks", "no"),
    ("menu", "menu"), ("main menu", "menu"), ("help", "help"), ("/help", "help"),
    ("cancel", "cancel"), ("restart", "restart"), ("start over", "restart"),
    ("where is my order", "status"), ("where's my order?", "status"), ("order status", "status"),
    ("track", "status"), ("track my order", "status"),
    ("cancel my order", "cancel_order"), ("cancel order", "cancel_order"),
    ("delete my data", "delete_data"), ("forget me", "delete_data"), ("erase my data", "delete_data"),
    ("talk to a person", "human"), ("human", "human"), ("agent", "human"), ("speak to someone", "human"),
    ("do you have apples?", "question"), ("is the cheddar lactose free?", "question"),
    ("when do you deliver?", "question"), ("how much are the apples", "question"),
    ("no, that's all", "checkout"), ("yes please, that's all", "checkout"), ("nothing else", "checkout"),
    ("I need help with my order", "help"), ("new order", "order"),
    ("asdfgh qwerty", "unknown"),
])
def test_intents(parser, text, intent):
    result = run(parser, text)
    assert result.intent == intent
    assert not result.items and not result.ambiguous


@pytest.mark.parametrize("text, number", [
    ("2", 2), ("#2", 2), ("number 2", 2), ("option 2", 2), ("2.", 2), ("two", 2), ("the second one", 2),
    ("1st", 1), ("123456", 123456),
])
def test_a_bare_number_is_a_choice(parser, text, number):
    result = run(parser, text, state="menu")
    assert (result.intent, result.choice) == ("choice", number)


@pytest.mark.parametrize("text, phone", [
    ("+1 415 555 2671", "+14155552671"), ("415-555-2671", "4155552671"), ("(415) 555 2671", "4155552671"),
    ("my number is +44 20 7946 0958", "+442079460958"), ("+1 (415) 555-2671", "+14155552671"),
])
def test_a_typed_phone_number(parser, text, phone):
    result = run(parser, text, state="verify", step="phone")
    assert (result.intent, result.phone) == ("phone", phone)


@pytest.mark.parametrize("text", ["123456", "123 456", "123-456", "code: 123456"])
def test_six_digits_are_a_code_only_while_a_code_is_awaited(parser, text):
    result = run(parser, text, state="verify", step="code")
    assert (result.intent, result.code) == ("code", "123456")
    elsewhere = run(parser, text.replace("code: ", ""), state="menu")
    assert (elsewhere.intent, elsewhere.choice, elsewhere.code) == ("choice", 123456, None)


@pytest.mark.parametrize("text, intent", [
    ("yes, place the order", "yes"), ("ok go ahead", "yes"), ("no wait", "no"), ("no, I want to change it", "no"),
])
def test_leading_answers_while_confirming(parser, text, intent):
    assert run(parser, text, state="confirm").intent == intent


def test_an_unknown_product_is_not_heard_as_no(parser):
    result = run(parser, "no kiwi", state="confirm")
    assert result.intent == "unknown" and [u.text for u in result.unknown] == ["kiwi"]


def test_texts_are_shown_as_typed(parser):
    [bad] = run(parser, "fifty-one eggs").invalid
    assert (bad.text, bad.reason, bad.quantity) == ("fifty-one eggs", "too_large", 51)
    [unknown] = run(parser, "2 Dragon Fruits").unknown
    assert unknown.text == "Dragon Fruits"


def test_questions_add_nothing_even_when_they_name_products(parser):
    result = run(parser, "do you have 2 kg of apples?")
    assert result.intent == "question" and not result.items and result.answer is None


def test_result_is_json_safe(parser):
    result = run(parser, "2 kg of apples, milk, kiwi and 0 eggs")
    again = NluResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


# -- the sample catalog shipped in bot/data --------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "data" / "catalog.json"


@pytest.fixture(scope="module")
def sample():
    if not SAMPLE.exists():
        pytest.skip(f"sample catalog {SAMPLE} not present")
    docs = json.loads(SAMPLE.read_text())
    products = [Product(sku=d["sku"], name=d["name"], unit=d["unit"], stock=int(d.get("stock", 0)),
                        price_cents=int(d["price_cents"]) if "price_cents" in d else round(float(d["price"]) * 100),
                        aliases=tuple(d.get("aliases") or ()), category=d.get("category", ""),
                        description=d.get("description", "")) for d in docs]
    catalog = Catalog(products)
    return OfflineParser(catalog), catalog


def _named(catalog, result):
    return [(catalog.get(i.sku).name.lower(), i.quantity, i.action) for i in result.items]


@pytest.mark.parametrize("text, expected", [
    ("2 kg of apples and a dozen eggs", [("apple", 2, "add"), ("egg", 12, "add")]),
    ("2 orange juice", [("orange juice", 2, "add")]),
    ("2 kg oranges", [("orange", 2, "add")]),
    ("chiken breast", [("chicken breast", 1, "add")]),
    ("a litre of whole milk", [("whole milk", 1, "add")]),
    ("remove the eggs", [("egg", 0, "remove")]),
    ("make it 3 kg of bananas", [("banana", 3, "set")]),
    ("1.5 kg tomatos and 2 kg potatos", [("tomato", 1.5, "add"), ("potato", 2, "add")]),
])
def test_sample_catalog_lines(sample, text, expected):
    parser, catalog = sample
    result = run(parser, text)
    assert result.intent == "add_items"
    got = _named(catalog, result)
    assert [(q, a) for _, q, a in got] == [(q, a) for _, q, a in expected]
    for (name, _, _), (word, _, _) in zip(got, expected, strict=True):
        assert word in name and "juice" not in name.replace(word, "")


def test_sample_catalog_asks_which_milk_and_refuses_kiwi(sample):
    parser, catalog = sample
    [amb] = run(parser, "milk").ambiguous
    assert len(amb.candidates) >= 2 and all("milk" in catalog.get(s).name.lower() for s in amb.candidates)
    result = run(parser, "kiwi")
    assert result.intent == "unknown" and [u.text for u in result.unknown] == ["kiwi"]
