"""Counts and weights: pieces of by-weight products, thousands separators, the smallest and the
largest amounts, as the cart would receive them."""
from __future__ import annotations

import pytest

from bot.nlu.numbers import read_number
from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext
from bot.shop.catalog import Catalog, Product

CATALOG = Catalog([
    Product("BANANA", "Bananas", "kg", 145, 150, ("banana",), each_grams=200),
    Product("GRAPES", "Red grapes", "kg", 549, 42.5, ("grapes",)),
    Product("STEAK", "Sirloin steak", "kg", 2199, 20, ("steak",), each_grams=300, min_quantity=0.25),
    Product("EGGS", "Large eggs", "each", 35, 360, ("egg", "eggs")),
    Product("TUNA", "Canned tuna", "can", 149, 80, ("tuna",), min_quantity=2),
])


@pytest.fixture(scope="module")
def parser():
    return OfflineParser(CATALOG, max_quantity=50)


def read(parser, text):
    return parser.understand(text, NluContext(state="order", max_quantity=50))


@pytest.mark.parametrize("text, quantity, count", [
    ("6 bananas", 1.2, 6),                 # pieces become weight, and the count is kept for the reply
    ("six bananas", 1.2, 6),
    ("a banana", 0.2, 1),
    ("half a dozen bananas", 1.2, 6),
    ("2 kg of bananas", 2, None),          # a weight stays a weight
    ("bananas 2", 2, None),                # a number after the name is in the product's own unit
    ("bananas", 1, None),                  # a bare name is one of the unit
    ("1.5 kg bananas", 1.5, None),         # fractions kept
    ("2 steaks", 0.6, 2),
])
def test_pieces_of_by_weight_products(parser, text, quantity, count):
    [item] = read(parser, text).items
    assert (item.sku, item.quantity, item.unit, item.count) in {("BANANA", quantity, "kg", count),
                                                              ("STEAK", quantity, "kg", count)}


def test_pieces_without_a_piece_weight_are_asked_about_not_guessed(parser):
    result = read(parser, "6 grapes")
    assert not result.items
    [bad] = result.invalid
    assert (bad.reason, bad.sku, bad.quantity) == ("count", "GRAPES", 6)
    assert [i.quantity for i in read(parser, "0.75 kg of grapes").items] == [0.75]


@pytest.mark.parametrize("word, value", [
    ("1,000", 1000), ("1,000,000", 1_000_000), ("12,345.5", 12345.5), ("1.000.000", 1_000_000),
    ("1,5", 1.5), ("1.5", 1.5), ("2,25", 2.25), ("1/2", 0.5),
])
def test_thousands_separators_and_decimal_commas(word, value):
    assert read_number([word], 0)[0] == value


@pytest.mark.parametrize("text, reason, quantity", [
    ("1,000,000 eggs", "too_large", 1_000_000),       # not "1 egg": the limit is named instead
    ("1,000 eggs", "too_large", 1000),
    ("0.001 kg of bananas", "too_small", 0.001),     # would have been an order for $0.00
    ("0.2 kg of steak", "too_small", 0.2),           # this product says 250 g at least
    ("a tuna", "too_small", 1),                      # sold two cans at a time
    ("60 kg of bananas", "too_large", 60),
])
def test_amounts_outside_the_products_limits_are_refused(parser, text, reason, quantity):
    result = read(parser, text)
    assert not result.items
    [bad] = result.invalid
    assert (bad.reason, bad.quantity) == (reason, quantity)


def test_amounts_inside_the_limits_pass(parser):
    assert [(i.sku, i.quantity) for i in read(parser, "2 cans of tuna and 0.25 kg steak and 50 eggs").items] == \
        [("TUNA", 2), ("STEAK", 0.25), ("EGGS", 50)]
