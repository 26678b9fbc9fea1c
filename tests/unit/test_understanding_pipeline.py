"""Issue 12's behaviour through the in-process pipeline (ingress, worker step, store): the settings
reach the conversation, changes of details are stored and recorded, hostile lines stay cheap."""
from __future__ import annotations

import time

from bot.config import load_settings
from bot.runtime import build
from tests.conftest import API_TOKEN, OPERATOR_TOKEN
from tests.support.pipeline import Pipeline

ANA = "+14155550177"


def registered(pipe: Pipeline, address: str = "12 Main Street, Springfield"):
    say = lambda text: pipe.texts(text, phone=ANA, user=ANA)  # noqa: E731
    say("hi")
    say("My name is Ana Lima")
    say(address)
    return say


def test_the_address_check_setting_reaches_the_conversation(fake_redis, store, senders):
    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, ADDRESS_CHECK="lenient")
    pipe = Pipeline(build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True))
    registered(pipe, address="The blue house by the mosque")
    assert store.customers.find_by_phone(ANA)["address"] == "The blue house by the mosque"


def test_a_strict_check_asks_again(pipeline, rt):
    say = lambda text: pipeline.texts(text, phone=ANA, user=ANA)  # noqa: E731
    say("hi")
    assert "What's your delivery address?" in say("I'm Ana Lima")
    assert "That doesn't look like a delivery address" in say("The blue house")
    assert rt.store.customers.find_by_phone(ANA) is None


def test_a_change_of_address_is_stored_and_recorded_once(pipeline, rt):
    say = registered(pipeline)
    assert rt.store.customers.find_by_phone(ANA)["name"] == "Ana Lima"
    say("change my address to 5 Oak Road, Springfield")
    doc = rt.store.customers.find_by_phone(ANA)
    assert doc["address"] == "5 Oak Road, Springfield"
    assert [(c["field"], c["channel"]) for c in doc["changes"]] == [("address", "api")]
    assert "5 Oak Road" not in str(doc["changes"])  # what changed and when, not the old or new value


def test_a_hostile_line_is_answered_at_once(pipeline):
    say = registered(pipeline)
    started = time.monotonic()
    out = say("hi there " * 400 + "zz")
    assert out and time.monotonic() - started < 5  # seconds before; minutes for a few hundred characters
