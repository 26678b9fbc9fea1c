"""The shop file: validated like the settings (a mistake names its field), overridden by settings,
re-read when edited (a broken edit keeps the last good rules), and the FAQ made from it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.shop.faq import with_rules
from bot.shop.rules_source import ShopFileError, ShopSource, parse_rules
from tests.conftest import SAMPLE_SHOP

SAMPLE = Path(SAMPLE_SHOP).read_text()


def test_the_sample_is_the_shop_the_issue_describes():
    rules = parse_rules(SAMPLE)
    assert (rules.delivery_fee_cents, rules.free_delivery_over_cents, rules.minimum_order_cents) == (499, 5000, 2000)
    assert [a.name for a in rules.areas] == ["Springfield", "Chatham"] and rules.areas[1].fee_cents == 699
    assert rules.slots.capacity == 10 and rules.payment_methods == ("on_delivery",)
    assert rules.timezone == "America/Chicago" and not rules.hours.always


@pytest.mark.parametrize("text, message", [
    ("delivery: {fee: 4.999}", "delivery.fee: must be an amount of at least 0 with at most 2 decimals, got 4.999"),
    ("delivery: {fee: -1}", "delivery.fee"),
    ("delivery: {fees: 4.99}", "delivery.fees: Extra inputs are not permitted"),
    ("timezone: Mars/Olympus", "'Mars/Olympus' is not a time zone name"),
    ("hours: {mon: '9-5'}", "hours.mon: '9-5' is not a time range like 08:00-21:00"),
    ("hours: {mon: '18:00-09:00'}", "must start before it ends"),
    ("hours: {funday: '09:00-17:00'}", "'funday' is not a day"),
    ("hours: {mon-fri: '09:00-17:00', wed: closed}", "wed is given twice"),
    ("areas: [{name: North, postcodes: [02134]}]", "write postcodes in quotes"),
    ("areas: [{name: North}]", "area 'North' needs postcodes or places"),
    ("slots: {capacity: 0}", "slots.capacity: Input should be greater than or equal to 1"),
    ("slots: {hours: {sun: 'noon'}}", "slots.hours.sun"),
    ("payment: {methods: [bitcoin]}", "payment.methods.0"),
    ("payment: {methods: []}", "payment.methods"),
    ("delivery: {free_over: 50}", "there is no delivery fee to waive"),
    ("outside_hours: maybe", "outside_hours"),
    ("hours: [", "not valid YAML"),
])
def test_a_mistake_is_named(text, message):
    with pytest.raises(ShopFileError) as err:
        parse_rules(text, "shop.yaml")
    assert message in str(err.value) and str(err.value).startswith("shop.yaml")


def test_settings_override_the_amounts_and_online_needs_stripe(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(SAMPLE)
    settings = load_settings({}, SHOP_FILE=str(path), MIN_ORDER_CENTS=1500, DELIVERY_FEE_CENTS=0)
    rules = ShopSource(settings).current()
    assert (rules.minimum_order_cents, rules.delivery_fee_cents, rules.free_delivery_over_cents) == (1500, 0, 5000)
    path.write_text(SAMPLE.replace("methods: [on_delivery]", "methods: [on_delivery, online]"))
    with pytest.raises(ShopFileError, match="'online' needs the STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"):
        ShopSource(load_settings({}, SHOP_FILE=str(path)))
    with pytest.raises(ShopFileError, match="cannot be read"):
        ShopSource(load_settings({}, SHOP_FILE=str(tmp_path / "missing.yaml")))


def test_an_edit_is_picked_up_and_a_broken_edit_keeps_the_last_good_rules(tmp_path, caplog):
    path = tmp_path / "shop.yaml"
    path.write_text(SAMPLE)
    source = ShopSource(load_settings({}, SHOP_FILE=str(path)))
    assert source.current().minimum_order_cents == 2000
    path.write_text(SAMPLE.replace("minimum_order: 20.00", "minimum_order: 25.00"))
    os.utime(path, ns=(1, 1))  # a different stamp even within the clock's resolution
    assert source.current().minimum_order_cents == 2500
    path.write_text(SAMPLE.replace("minimum_order: 20.00", "minimum_order: lots"))
    assert source.current().minimum_order_cents == 2500
    assert "shop file edited but refused" in caplog.text and "delivery.minimum_order" in caplog.text


def test_a_turn_that_asks_while_another_reloads_the_edit_gets_the_edited_rules(tmp_path, monkeypatch):
    """Lanes run side by side: the first turn after an edit reloads the file; one asking meanwhile must
    wait for the edited rules, not be handed the old ones (a slot chosen at the summary was dropped,
    the order placed without it, by a turn that began after slots were switched on)."""
    import threading

    import bot.shop.rules_source as shop

    path = tmp_path / "shop.yaml"
    path.write_text(SAMPLE)
    source = ShopSource(load_settings({}, SHOP_FILE=str(path)))
    path.write_text(SAMPLE.replace("minimum_order: 20.00", "minimum_order: 25.00"))
    os.utime(path, ns=(1, 1))
    loading, release, real_load = threading.Event(), threading.Event(), shop.load_rules

    def slow_load(settings):
        loading.set()
        release.wait(10)
        return real_load(settings)

    monkeypatch.setattr(shop, "load_rules", slow_load)
    got = {}
    first = threading.Thread(target=lambda: got.setdefault("first", source.current()))
    first.start()
    assert loading.wait(10)
    second = threading.Thread(target=lambda: got.setdefault("second", source.current()))
    second.start()
    second.join(1.0)  # without waiting for the reload it has answered by now, with the old rules
    release.set()
    first.join(10)
    second.join(10)
    assert got["first"].minimum_order_cents == got["second"].minimum_order_cents == 2500


def test_the_faq_about_the_rules_comes_from_the_file_and_replaces_the_jsons():
    rules = parse_rules(SAMPLE)
    faq = with_rules([{"topic": "delivery_fee", "question": "Fee?", "answer": "Delivery is $9.99."},
                      {"topic": "returns", "question": "Returns?", "answer": "Within 24 hours."}], rules, "USD")
    by_topic = {e["topic"]: e["answer"] for e in faq}
    assert by_topic["delivery_fee"].startswith("Delivery costs $4.99, and it's free for orders of $50.00 or more.")
    assert "$9.99" not in " ".join(by_topic.values()) and by_topic["returns"] == "Within 24 hours."
    assert by_topic["minimum_order"] == "The minimum order for delivery is $20.00 worth of products."
    plain = with_rules([{"topic": "opening_hours", "question": "Open?", "answer": "9 to 5."}],
                       parse_rules("hours: always"), "USD")
    assert {e["topic"]: e["answer"] for e in plain}["opening_hours"] == "9 to 5."  # the file sets no hours
