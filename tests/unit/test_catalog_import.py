"""Catalog import: the sample catalog, good CSV/JSON files, and every way a file is refused."""
from __future__ import annotations

import json
import re

import pytest

from bot.shop.catalog import UNITS, Product
from bot.shop.catalog_import import (
    CatalogImportError,
    RowError,
    load_sample_catalog,
    parse_catalog,
    read_catalog,
    sample_catalog_path,
)
from bot.shop.faq import FaqError, load_faq, parse_faq

HEADER = "sku,name,unit,price,stock,aliases,category,description\n"
GOOD_ROW = "APPLE,Apples (Gala),kg,4.39,120,apple|apples,Fruit,Crisp apples.\n"
SKU_RULE = "must be 1-40 letters, digits or dashes, not starting with a dash"
NOT_AN_INTEGER = "unable to parse string as an integer"


def refused(text: str, fmt: str = "csv") -> list[RowError]:
    with pytest.raises(CatalogImportError) as info:
        parse_catalog(text, fmt)
    return info.value.errors


def as_tuples(errors: list[RowError]) -> list[tuple]:
    return [(e.line, e.sku, e.reason) for e in errors]


# --- the sample catalog -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample() -> list[Product]:
    return load_sample_catalog()


REQUIRED = ["apples", "bananas", "oranges", "tomatoes", "potatoes", "onions", "carrots", "milk", "eggs",
            "butter", "cheese", "yogurt", "bread", "rice", "pasta", "flour", "sugar", "coffee", "tea",
            "chicken breast", "ground beef", "orange juice"]


def test_sample_catalog_is_big_unique_and_well_formed(sample):
    skus = [p.sku for p in sample]
    assert len(sample) >= 70
    assert len(set(skus)) == len(skus)
    for p in sample:
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,39}", p.sku)
        assert type(p.price_cents) is int and p.price_cents > 0
        assert (type(p.stock) is int or p.weighed) and p.stock >= 0  # only kg and l keep fractions
        assert p.unit in UNITS
        assert p.each_grams is None or (p.unit == "kg" and 20 <= p.each_grams <= 1000)
        assert p.name and p.category and p.description.endswith(".")
        assert p.aliases and all(a == a.lower().strip() for a in p.aliases)


@pytest.mark.parametrize("term", REQUIRED)
def test_sample_catalog_has_every_required_product(sample, term):
    assert any(term in p.name.lower() or term in p.aliases for p in sample), term


def test_sample_catalog_file_is_what_the_loader_returns(sample):
    raw = json.loads(sample_catalog_path().read_text())
    assert [d["sku"] for d in raw] == [p.sku for p in sample]
    assert sample[0] == Product.from_doc(raw[0])


def test_no_alias_belongs_to_two_products(sample):
    owners: dict[str, str] = {}
    for p in sample:
        for alias in p.aliases:
            assert alias not in owners, f"{alias!r} is an alias of {owners[alias]} and {p.sku}"
            owners[alias] = p.sku


@pytest.mark.parametrize("word", ["milk", "bread", "cheese", "tea", "pasta", "chicken", "oil"])
def test_ambiguous_words_are_nobodys_alias_but_several_names(sample, word):
    assert not any(word in p.aliases for p in sample)
    assert len([p for p in sample if word in p.name.lower().split()]) >= 2


def test_sample_catalog_near_collisions_and_facts(sample):
    by_sku = {p.sku: p for p in sample}
    assert {"MILK-WHOLE", "MILK-SKIM", "MILK-OAT", "MILK-LACTOSE-FREE"} <= by_sku.keys()
    assert "lactose-free" in by_sku["MILK-LACTOSE-FREE"].description.lower()
    assert "contains lactose" in by_sku["MILK-WHOLE"].description
    assert "oranges" in by_sku["ORANGE"].aliases and "orange juice" in by_sku["JUICE-ORANGE"].aliases
    assert by_sku["JUICE-ORANGE"].unit == "l" and by_sku["MILK-WHOLE"].unit == "l"
    assert by_sku["APPLE"].unit == "kg" and by_sku["APPLE"].weighed
    assert (by_sku["EGGS"].unit, by_sku["BREAD-WHITE"].unit, by_sku["BUTTER"].unit) == ("each", "loaf", "pack")
    assert by_sku["SAFFRON"].stock == 0 and by_sku["AVOCADO"].stock == 3
    assert by_sku["BUTTER"].price_cents == 499


# --- good files ---------------------------------------------------------------------------------

def test_csv_import_converts_prices_exactly_and_splits_aliases(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text(HEADER + GOOD_ROW
                    + " milk-whole , Whole milk ,L,2.49,10, Whole Milk ; full fat  milk ;whole milk,Dairy,\n"
                    + "EGGS,Large eggs,each,0.35,360,,,\n")
    products = read_catalog(path)
    assert products == [
        Product("APPLE", "Apples (Gala)", "kg", 439, 120, ("apple", "apples"), "Fruit", "Crisp apples."),
        Product("MILK-WHOLE", "Whole milk", "l", 249, 10, ("whole milk", "full fat milk"), "Dairy", ""),
        Product("EGGS", "Large eggs", "each", 35, 360, (), "", ""),
    ]


def test_csv_with_price_cents_semicolons_bom_and_blank_lines(tmp_path):
    path = tmp_path / "export.csv"
    text = "\ufeffsku;name;unit;price_cents;stock;aliases\n\nRICE;Rice;bag;299;80;rice|white rice\n\n"
    path.write_text(text, encoding="utf-8")
    assert read_catalog(path) == [Product("RICE", "Rice", "bag", 299, 80, ("rice", "white rice"))]


def test_json_import_with_float_price_string_price_and_cents(tmp_path):
    path = tmp_path / "shop.json"
    path.write_text(json.dumps([
        {"sku": "BANANA", "name": "Bananas", "unit": "kg", "price": 1.45, "stock": 150, "aliases": ["banana"]},
        {"sku": "COFFEE", "name": "Coffee", "unit": "bag", "price": "8.99", "price_cents": 899, "stock": 5},
        {"sku": "TEA", "name": "Tea", "unit": "box", "price_cents": 449, "stock": 0, "aliases": "tea|tea bags"},
    ]))
    products = read_catalog(path)
    assert [(p.sku, p.price_cents, p.stock, p.aliases) for p in products] == [
        ("BANANA", 145, 150, ("banana",)), ("COFFEE", 899, 5, ()), ("TEA", 449, 0, ("tea", "tea bags"))]


def test_format_is_sniffed_when_the_extension_says_nothing(tmp_path):
    as_json, as_csv = tmp_path / "catalog.txt", tmp_path / "catalog"
    as_json.write_text('[{"sku": "A1", "name": "A", "unit": "each", "price": "2.49", "stock": 1}]')
    as_csv.write_text("sku,name,unit,price,stock\nA1,A,each,2.49,1\n")
    assert read_catalog(as_json) == read_catalog(as_csv) == [Product("A1", "A", "each", 249, 1)]


@pytest.mark.parametrize("price, cents", [("2.49", 249), ("2.4", 240), ("2", 200), ("2.490", 249),
                                          ("0.01", 1), ("1234.56", 123456)])
def test_prices_convert_to_exact_cents(price, cents):
    (product,) = parse_catalog(f"sku,name,unit,price,stock\nX,X,each,{price},1\n", "csv")
    assert product.price_cents == cents


# --- refused files ------------------------------------------------------------------------------

@pytest.mark.parametrize("row, sku, reason", [
    ("A B,Apples,kg,1.00,1", "A B", f"sku 'A B' {SKU_RULE}"),
    ("-APPLE,Apples,kg,1.00,1", "-APPLE", f"sku '-APPLE' {SKU_RULE}"),
    (",Apples,kg,1.00,1", None, "sku is missing"),
    ("APPLE,,kg,1.00,1", "APPLE", "name is missing"),
    (f"APPLE,{'x' * 121},kg,1.00,1", "APPLE", "name: string should have at most 120 characters"),
    ("APPLE,Apples,lbs,1.00,1", "APPLE", f"unit 'lbs' is not one of: {', '.join(UNITS)}"),
    ("APPLE,Apples,kg,2.499,1", "APPLE", "price '2.499' has more than 2 decimals"),
    ("APPLE,Apples,kg,-1.00,1", "APPLE", "price '-1.00' must be more than 0 and at most 1000000"),
    ("APPLE,Apples,kg,0,1", "APPLE", "price '0' must be more than 0 and at most 1000000"),
    ("APPLE,Apples,kg,$2.49,1", "APPLE", "price '$2.49' must be a number like 2.49"),
    ("APPLE,Apples,kg,,1", "APPLE", "price is missing: give price_cents (249) or price (2.49)"),
    ("APPLE,Apples,kg,1.00,-5", "APPLE", "stock: input should be greater than or equal to 0"),
    ("CAN,Tuna,can,1.00,2.5", "CAN", "stock 2.5 must be a whole number of can (only kg and l take fractions)"),
    ("APPLE,Apples,kg,1.00,2.5001", "APPLE", "stock '2.5001' has more than 3 decimals"),
    ("APPLE,Apples,kg,1.00,lots", "APPLE", "stock 'lots' must be a number like 12 or 12.5"),
    ("APPLE,Apples,kg,1.00,", "APPLE", "stock is missing"),
])
def test_each_bad_field_is_reported_on_its_line(row, sku, reason):
    errors = refused("sku,name,unit,price,stock\nOK-1,Fine,each,1.00,1\n" + row + "\n")
    assert as_tuples(errors) == [(3, sku, reason)]


def test_weighed_stock_keeps_its_fraction_and_pieces_and_minimums_are_read():
    text = ("sku,name,unit,price,stock,each_grams,min_quantity\n"
            "BANANA,Bananas,kg,1.45,12.5,200,0.25\nTUNA,Canned tuna,can,1.49,80,,2\n")
    banana, tuna = parse_catalog(text, "csv")
    assert (banana.stock, banana.each_grams, banana.min_quantity, banana.smallest) == (12.5, 200, 0.25, 0.25)
    assert (tuna.stock, tuna.each_grams, tuna.min_quantity, tuna.smallest) == (80, None, 2, 2)
    assert isinstance(tuna.stock, int)
    assert parse_catalog(text.replace(",0.25", ","), "csv")[0].smallest == 0.1  # by weight: 100 g unless told


@pytest.mark.parametrize("row, reason", [
    ("TUNA,Canned tuna,can,1.49,80,150,", "each_grams is for products sold by the kg, not by the can"),
    ("TUNA,Canned tuna,can,1.49,80,,1.5", "min_quantity 1.5 must be a whole number of can"),
    ("BANANA,Bananas,kg,1.45,10,-200,", "each_grams: input should be greater than 0"),
])
def test_piece_weights_and_minimums_must_fit_the_unit(row, reason):
    errors = refused("sku,name,unit,price,stock,each_grams,min_quantity\n" + row + "\n")
    assert as_tuples(errors) == [(2, row.split(",")[0], reason)]


def test_price_and_price_cents_must_agree():
    errors = refused("sku,name,unit,price,price_cents,stock\nX,X,each,2.49,250,1\n")
    assert as_tuples(errors) == [(2, "X", "price 2.49 and price_cents 250 disagree")]


def test_duplicate_sku_names_both_lines_even_after_uppercasing():
    errors = refused(HEADER + GOOD_ROW + "BANANA,Bananas,kg,1.45,1,,,\napple,Apples again,kg,4.00,1,,,\n")
    assert as_tuples(errors) == [(4, "APPLE", "duplicate sku, also on line 2")]


def test_every_error_is_reported_at_once_and_nothing_is_returned(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + GOOD_ROW
                    + 'LEMON,Lemons,each,0.79,80,lemon,Fruit,"Lemons,\nfrom California."\n'  # lines 3-4
                    + "LIME,Limes,each,0.395,-1,,,\n"                                       # line 5
                    + "PEAR,Pears,kg,4.39,60,,,\n"                                          # line 6
                    + "PLUM,Plums,kg\n"                                                     # line 7
                    + "LEMON,Lemons,bunch,1.00,1,,,\n")                                     # line 8
    with pytest.raises(CatalogImportError) as info:
        read_catalog(path)
    assert as_tuples(info.value.errors) == [
        (5, "LIME", "price '0.395' has more than 2 decimals"),
        (5, "LIME", "stock: input should be greater than or equal to 0"),
        (7, "PLUM", "row has 3 fields, the header has 8"),
        (8, "LEMON", "duplicate sku, also on line 3"),
    ]
    assert str(info.value).splitlines() == [
        "catalog refused, 4 error(s):",
        "line 5 (LIME): price '0.395' has more than 2 decimals",
        "line 5 (LIME): stock: input should be greater than or equal to 0",
        "line 7 (PLUM): row has 3 fields, the header has 8",
        "line 8 (LEMON): duplicate sku, also on line 3",
    ]


def test_header_problems_are_reported_once_on_line_1():
    errors = refused("sku,name,units,prise,stock,notes\nA,A,kg,1,1,x\n")
    assert as_tuples(errors) == [
        (1, None, "missing column 'unit'"),
        (1, None, "missing column 'price_cents' or 'price'"),
        (1, None, "unknown column 'units'"),
        (1, None, "unknown column 'prise'"),
        (1, None, "unknown column 'notes'"),
    ]


@pytest.mark.parametrize("text, reason", [("", "the catalog file is empty"),
                                          ("  \n", "the catalog file is empty"),
                                          ("sku,name,unit,price,stock\n", "the catalog has no products")])
def test_empty_catalogs_are_refused(text, reason):
    assert as_tuples(refused(text)) == [(1, None, reason)]


def test_json_errors_carry_the_line_of_each_object(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        '[\n'
        '  {"sku": "OK", "name": "Fine", "unit": "each", "price": 1.00, "stock": 1},\n'   # line 2
        '  {"sku": "b1", "name": "B", "unit": "each", "price": 2.499,\n'                 # line 3
        '   "stock": true, "aliases": 5},\n'
        '  "not an object",\n'                                                           # line 5
        '  {"sku": "C", "name": "C", "unit": "each", "price_cents": 100, "stock": 1, "colour": "red"},\n'
        '  {"sku": "ok", "name": "Again", "unit": "each", "price_cents": 100, "stock": 1}\n'  # line 7
        ']\n')
    with pytest.raises(CatalogImportError) as info:
        read_catalog(path)
    assert as_tuples(info.value.errors) == [
        (3, "B1", "price '2.499' has more than 2 decimals"),
        (3, "B1", "stock must be a number, not true or false"),
        (3, "B1", "aliases must be a list of strings or a '|'-separated string"),
        (5, None, "each product must be a JSON object"),
        (6, "C", "unknown field 'colour'"),
        (7, "OK", "duplicate sku, also on line 2"),
    ]


@pytest.mark.parametrize("text, line, reason", [
    ('{"sku": "A"}', 1, "expected a JSON list of products"),
    ('[\n  {"sku": "A",}\n]', 2, "invalid JSON: Expecting property name enclosed in double quotes"),
    ('[\n {"sku": "A"}\n {"sku": "B"}\n]', 3, "invalid JSON: expected ',' or ']'"),
    ('[]\n[]', 2, "invalid JSON: text after the list"),
    ('[]', 1, "the catalog has no products"),
])
def test_broken_json_is_refused_with_its_line(text, line, reason):
    assert as_tuples(refused(text, "json")) == [(line, None, reason)]


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("sku,name,unit,price,stock\nJALAPENO,Jalapeño,each,0.20,5\n".encode("latin-1"))
    with pytest.raises(CatalogImportError) as info:
        read_catalog(path)
    assert as_tuples(info.value.errors) == [(2, None, "the file is not UTF-8 text")]


def test_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown catalog format 'xml'"):
        parse_catalog("<catalog/>", "xml")


# --- FAQ ----------------------------------------------------------------------------------------

def test_faq_loads_with_the_topics_customers_ask_about():
    """faq.json holds the shop's words; fees, minimum, areas and payment come from the shop file."""
    from bot.shop.faq import with_rules
    from bot.shop.rules_source import parse_rules
    from tests.conftest import SAMPLE_SHOP

    faq = with_rules(load_faq(), parse_rules(open(SAMPLE_SHOP).read()), "USD")
    topics = {entry["topic"] for entry in faq}
    assert {"delivery_areas", "delivery_hours", "minimum_order", "delivery_fee", "payment", "returns",
            "opening_hours", "substitutions", "contact"} <= topics
    assert len(topics) == len(faq)
    assert all(set(e) == {"topic", "question", "answer", "keywords"} and e["question"] and e["answer"] for e in faq)
    payment = next(e for e in faq if e["topic"] == "payment")["answer"].lower()
    assert "cash" in payment and "card" in payment
    assert not {"delivery_fee", "minimum_order", "delivery_areas", "payment"} & {e["topic"] for e in load_faq()}


def test_faq_from_another_path(tmp_path):
    path = tmp_path / "faq.json"
    path.write_text('[{"topic": "hours", "question": "When?", "answer": " Always. "}]')
    assert load_faq(path) == [{"topic": "hours", "question": "When?", "answer": "Always.", "keywords": []}]


@pytest.mark.parametrize("text, message", [
    ('{"topic": "x"}', "FAQ is invalid: the file must be a list of entries: input should be a valid list"),
    ('[{"topic": "x", "question": "q"}]', "FAQ is invalid: entry 1 answer: field required"),
    ('[{"topic": "x", "question": "q", "answer": 5}]',
     "FAQ is invalid: entry 1 answer: input should be a valid string"),
    ('[{"topic": "x", "question": "q", "answer": "a"}, {"topic": "x", "question": "r", "answer": "b"}]',
     "FAQ topics appear more than once: x"),
    ("[", "FAQ is not valid JSON: line 1: Expecting value"),
])
def test_faq_errors_name_the_problem(text, message):
    with pytest.raises(FaqError) as info:
        parse_faq(text)
    assert str(info.value) == message


def test_missing_price_is_reported_even_when_another_field_also_fails():
    errors = refused("sku,name,unit,price,stock\nA,A,kg,,-1\nB,B,kg,,1\n")
    assert as_tuples(errors) == [
        (2, "A", "stock: input should be greater than or equal to 0"),
        (2, "A", "price is missing: give price_cents (249) or price (2.49)"),
        (3, "B", "price is missing: give price_cents (249) or price (2.49)"),
    ]


def test_json_null_price_counts_as_absent():
    text = '[{"sku": "A", "name": "A", "unit": "kg", "price": null, "price_cents": 5, "stock": 1}]'
    assert parse_catalog(text, "json") == [Product("A", "A", "kg", 5, 1)]
