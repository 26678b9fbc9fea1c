"""The product name index: precise `resolve` for the parser, recall-minded `search` for prompts."""
from __future__ import annotations

import random

import pytest

from bot.nlu.matching import CatalogIndex
from bot.nlu.offline import OfflineParser
from bot.nlu.typed_words import singular
from bot.nlu.types import NluContext
from bot.shop.catalog import Catalog, Product


def _p(sku, name, unit="each", aliases=()):
    return Product(sku=sku, name=name, unit=unit, price_cents=100, stock=5, aliases=tuple(aliases))


CATALOG = Catalog([
    _p("apples", "Apples (Gala)", "kg", ["gala"]), _p("apple-juice", "Apple juice", "l"),
    _p("pineapple", "Pineapple"), _p("ice-cream", "Vanilla ice cream"),
    _p("milk-whole", "Whole milk", "l"), _p("milk-skim", "Skim milk", "l"),
    _p("chicken-breast", "Chicken breast (boneless, skinless)", "kg"), _p("chicken-thigh", "Chicken thighs", "kg"),
    _p("eggs", "Large eggs", aliases=["eggs"]), _p("bananas", "Bananas", "kg"),
])


@pytest.fixture(scope="module")
def index():
    return CatalogIndex(CATALOG)


@pytest.mark.parametrize("word, expected", [
    ("apples", "apple"), ("tomatoes", "tomato"), ("tomatos", "tomato"), ("loaves", "loaf"),
    ("berries", "berry"), ("peaches", "peach"), ("boxes", "box"), ("cheeses", "cheese"), ("hummus", "hummus"),
    ("glass", "glass"), ("egg", "egg"), ("peas", "pea"),
])
def test_singular_makes_plural_and_singular_meet(word, expected):
    assert singular(word) == expected


@pytest.mark.parametrize("words, skus, exact", [
    (["apple"], ["apples"], True),
    (["gala"], ["apples"], True),
    (["boneless", "chicken", "breast"], ["chicken-breast"], True),  # bracketed words may be typed
    (["apple", "juice"], ["apple-juice"], True),
    (["milk"], ["milk-whole", "milk-skim"], False),
    (["chicken"], ["chicken-breast", "chicken-thigh"], False),  # a shared first word: ask
    (["pine", "apple"], ["pineapple"], True),  # typed apart
    (["icecream"], ["ice-cream"], False),  # typed together
    (["bananna"], ["bananas"], True),
    (["apple", "pie"], [], False),  # an unknown word after the name: not apples
    (["skim"], [], False),  # a modifier alone is only a suggestion
    (["kiwi"], [], False),
])
def test_resolve(index, words, skus, exact):
    res = index.resolve(words)
    assert res.skus == skus
    if skus:
        assert res.exact == exact


def test_resolve_suggests_when_it_will_not_pick(index):
    assert index.resolve(["skim"]).suggestions == ["milk-skim"]
    assert "apples" in index.resolve(["apple", "pie"]).suggestions
    assert index.resolve(["kiwi"]).suggestions == []


def test_search_ranks_close_names_first(index):
    hits = index.search("bananna")
    assert hits[0][0] == "bananas"
    assert all(0 <= score <= 100 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert {sku for sku, _ in index.search("milk", limit=2)} == {"milk-whole", "milk-skim"}
    assert index.search("kiwi") == []


def test_search_covers_every_part_of_a_line(index):
    found = {sku for sku, _ in index.search("2 kg of apples, a dozen eggs and chiken breast", limit=6)}
    assert {"apples", "eggs", "chicken-breast"} <= found


def test_precision_holds_in_a_large_catalog():
    """Thousands of unrelated products must not pull common words onto products."""
    rng = random.Random(3)
    words = ["crunchy", "golden", "spicy", "organic", "smoky", "zesty", "classic", "rustic", "tangy", "nutty"]
    nouns = ["crackers", "pretzels", "granola", "noodles", "biscuits", "tortilla chips", "salsa", "hummus",
             "sardines", "lentils", "quinoa", "couscous", "muesli", "wafers", "popcorn"]
    products = list(CATALOG)
    for n in range(3000):
        name = f"{rng.choice(words).title()} {rng.choice(words)} {rng.choice(nouns)} {n}"
        products.append(_p(f"gen-{n}", name, "pack", [f"{rng.choice(words)} {rng.choice(nouns)}"]))
    parser = OfflineParser(Catalog(products))
    ctx = NluContext(state="order")
    result = parser.understand("2 kg of apples, a dozen eggs and skim milk", ctx)
    assert [(i.sku, i.quantity) for i in result.items] == [("apples", 2), ("eggs", 12), ("milk-skim", 1)]
    for line in ("I want some", "for delivery please", "hi there", "and the"):
        assert not parser.understand(line, ctx).items
    assert len(parser.index.search("granola", limit=5)) == 5
