"""Gemini through the real google-genai SDK against the local fake: what is sent, and what happens
when the model answers well, badly, slowly or not at all. The customer always gets an answer."""
from __future__ import annotations

import json
import time

import pytest

from bot.common import redis_keys
from bot.config import SettingsError, load_settings
from bot.nlu.matching import CatalogIndex
from bot.nlu.prompt import READING_INSTRUCTION, build_reading
from bot.nlu.schema import MODEL_INTENTS
from bot.nlu.types import NluContext
from bot.runtime import build
from bot.shop.catalog import Catalog, Product
from tests.conftest import API_TOKEN, GEMINI_KEY, OPERATOR_TOKEN

ANA = "phone:+14155550101"
APPLES_AND_EGGS = {"intent": "add_items", "language": "en", "items": [
    {"sku": "APPLE", "name": "apples", "quantity": 2, "unit": "kg"},
    {"sku": None, "name": "eggs", "quantity": 1, "unit": "dozen"}]}
# lines the offline parser is unsure of (words it cannot place), so the model is asked
EGGS_LINE = "apples, two kilos, and a dozen of the eggs, ta"  # offline: 1 apple (the amount after the name is lost)
APPLES_LINE = "2 kg of apples, the crunchy ones"  # offline: 2 kg of apples, "crunchy ones" unknown


def stats(rt) -> dict:
    return {k.decode(): int(v) for k, v in rt.redis.hgetall(redis_keys.STATS).items()}


def understand(rt, text, state="order", who=ANA, **kw):
    rt.catalog.current()  # loads the catalog into the understander, as the worker does
    return rt.nlu.understand(text, NluContext(state=state, customer_key=who, **kw))


def items(result) -> dict:
    return {i.sku: i.quantity for i in result.items}


# -- the request ------------------------------------------------------------------------------

def test_the_request_is_the_sdks_with_model_key_schema_and_instruction(gemini_rt, fake_gemini):
    text = "2 kg of apples please, my number is +1 415 555 2671"
    history = [("bot", "I've sent a 6-digit code by SMS to +1 ••• ••• 2671."), ("customer", "call me on 415-555-2671")]
    understand(gemini_rt, text, history=history)
    [req] = fake_gemini.requests
    # the API version is pinned (the SDK's default, v1, refuses the fields below), and the default
    # model is a current one, asked the way Google recommends for its family: its lowest thinking
    # level, the default temperature
    assert req["path"] == "/v1beta/models/gemini-3.5-flash-lite:generateContent"
    assert req["headers"]["x-goog-api-key"] == GEMINI_KEY
    body = req["body"]
    assert fake_gemini.instruction(req) == READING_INSTRUCTION
    config = body["generationConfig"]
    assert config["thinkingConfig"] == {"thinking_level": "MINIMAL"} and "temperature" not in config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["properties"]["intent"]["enum"] == list(MODEL_INTENTS)
    assert set(schema["properties"]["items"]["items"]["properties"]) == {"sku", "name", "quantity", "unit", "action"}
    assert "price" not in json.dumps(schema).lower() and "stock" not in json.dumps(schema).lower()
    # the customer's words are one JSON string value in the user turn, never in the instructions
    assert len(body["contents"]) == 1 and body["contents"][0]["role"] == "user"
    doc = fake_gemini.document(req)
    assert doc["customer_message"] == "2 kg of apples please, my number is [phone]"
    assert "2 kg of apples" not in fake_gemini.instruction(req)
    assert "2 kg of apples" not in json.dumps({k: v for k, v in doc.items() if k != "customer_message"})
    # no phone number, masked or not, and nothing identifying the customer
    raw = json.dumps(body, ensure_ascii=False)
    for secret in ("4155552671", "555-2671", "555 2671", "2671", ANA, "14155550101"):
        assert secret not in raw
    assert doc["recent_turns"] == [{"from": "bot", "text": "I've sent a 6-digit code by SMS to [phone]."},
                                   {"from": "customer", "text": "call me on [phone]"}]
    assert "APPLE" in [c["sku"] for c in doc["catalog_candidates"]]
    assert all(set(c) == {"sku", "name", "unit", "price", "description"} for c in doc["catalog_candidates"])
    assert {f["topic"] for f in doc["faq"]} >= {"delivery_hours", "payment"}


def test_a_large_catalog_sends_only_a_few_candidates():
    products = [Product(f"SKU-{i}", f"{w} {kind}", "each", 100 + i, 5)
                for i, (w, kind) in enumerate((w, k) for w in (f"brand{n}" for n in range(1000))
                                              for k in ("apples", "cheese", "soap", "bread", "rice", "tea", "jam",
                                                        "milk", "pasta", "beans"))]
    index = CatalogIndex(Catalog(products))
    assert len(index.catalog) == 10_000
    prompt = build_reading("3 brand17 apples and some brand17 cheese", NluContext(state="order"), index, [], "USD")
    doc = json.loads(prompt.contents)
    assert 1 <= len(doc["catalog_candidates"]) <= 12 and len(prompt.contents) < 4000
    assert {"SKU-170", "SKU-171"} <= set(prompt.offered)


def test_no_key_means_offline_only_and_nothing_counted(rt, fake_gemini):
    result = understand(rt, "2 kg of apples")
    assert result.source == "offline" and items(result) == {"APPLE": 2}
    assert fake_gemini.requests == [] and not any(k.startswith(("nlu", "translate")) for k in stats(rt))


def test_private_lines_and_bare_numbers_never_reach_the_model(gemini_rt, fake_gemini):
    assert understand(gemini_rt, "+14155552671", state="verify").intent == "phone"
    assert understand(gemini_rt, "123456", state="verify", step="code").intent == "code"
    assert understand(gemini_rt, "Ana Lima", state="register").source == "offline"
    assert understand(gemini_rt, "2", state="menu").choice == 2
    assert fake_gemini.requests == [] and stats(gemini_rt)["nlu_offline_only"] == 4


@pytest.mark.parametrize("state, line, intent", [
    ("confirm", "yes", "yes"), ("menu", "2", "choice"), ("order", "done", "checkout"), ("order", "2 kg of apples", "add_items"),
    ("order", "a dozen eggs", "add_items"), ("order", "remove the apples", "add_items"), ("order", "cart", "show_cart"),
    ("menu", "help", "help"), ("order", "200 kg of apples", "add_items"),
    ("order", "how much are the apples?", "question"),  # a price is exact offline, from the catalog
])
def test_lines_read_with_certainty_never_reach_the_model(gemini_rt, fake_gemini, state, line, intent):
    result = understand(gemini_rt, line, state=state)
    assert result.intent == intent and result.source == "offline"
    assert fake_gemini.requests == [] and stats(gemini_rt)["nlu_offline_only"] == 1


@pytest.mark.parametrize("state, line, reason", [
    ("order", APPLES_LINE, "unknown_words"), ("order", "some cheese", "ambiguous"), ("order", "add two more of those", "unreadable"),
    ("order", "is the cheddar lactose free?", "question"), ("menu", "hola", "language"),
    ("confirm", "yes, as long as it arrives before noon tomorrow", "long"),
])
def test_lines_the_parser_is_unsure_of_reach_the_model_and_why_is_counted(gemini_rt, fake_gemini, state, line, reason):
    understand(gemini_rt, line, state=state)
    assert fake_gemini.messages_asked() == [line] and stats(gemini_rt)[f"nlu_asked:{reason}"] == 1


# -- answers --------------------------------------------------------------------------------------

def test_a_valid_reading_is_used_and_its_cost_recorded(gemini_rt, fake_gemini):
    fake_gemini.script(EGGS_LINE, APPLES_AND_EGGS)
    result = understand(gemini_rt, EGGS_LINE)
    assert result.source == "gemini" and result.intent == "add_items"
    assert items(result) == {"APPLE": 2, "EGGS": 12}  # eggs named, found in the catalog, a dozen = 12 each
    s = stats(gemini_rt)
    assert s["nlu_calls"] == 1 and s["nlu_tokens_in"] == 120 and s["nlu_tokens_out"] == 30
    assert s["nlu_latency_ms_count"] == 1 and sum(v for k, v in s.items() if k.startswith("nlu_latency_ms_le:")) == 1
    assert not any(k.startswith("nlu_fallback") for k in s)


@pytest.mark.parametrize("item, problem", [
    ({"sku": "APPLE-GOLDEN-UNICORN", "name": "apples", "quantity": 2}, "unknown_sku"),
    ({"sku": "TRASH-BAGS", "name": "apples", "quantity": 2}, "sku_not_offered"),
    ({"sku": "APPLE", "name": "apples", "quantity": -2, "unit": "kg"}, "quantity"),
    ({"sku": "APPLE", "name": "apples", "quantity": 0, "unit": "kg"}, "quantity"),
    ({"sku": "APPLE", "name": "apples", "quantity": 5000, "unit": "kg"}, "quantity"),
    ({"sku": "APPLE", "name": "apples", "quantity": float("nan"), "unit": "kg"}, "quantity"),
    ({"sku": None, "name": "eggs", "quantity": 1.5}, "quantity"),  # one and a half eggs
    ({"sku": "APPLE", "name": "apples", "quantity": 2, "unit": "parsecs"}, "unit"),
])
def test_an_invalid_item_is_refused_counted_and_the_offline_reading_used(gemini_rt, fake_gemini, item, problem):
    fake_gemini.script(APPLES_LINE, {"intent": "add_items", "items": [item], "language": "en"})
    result = understand(gemini_rt, APPLES_LINE)
    assert result.source == "offline" and items(result) == {"APPLE": 2}
    s = stats(gemini_rt)
    assert s[f"nlu_invalid:{problem}"] == 1 and s["nlu_fallback:invalid"] == 1


@pytest.mark.parametrize("answer, problem", [("malformed", "malformed"), ({"intent": "launch_rockets"}, "schema"),
                                             ("blocked", "empty")])
def test_an_unreadable_answer_is_counted_and_the_offline_reading_used(gemini_rt, fake_gemini, answer, problem):
    fake_gemini.queue(answer)
    result = understand(gemini_rt, APPLES_LINE)
    assert result.source == "offline" and items(result) == {"APPLE": 2}
    assert stats(gemini_rt)[f"nlu_invalid:{problem}"] == 1


def test_a_500_is_retried_by_the_sdk_then_falls_back(gemini_rt, fake_gemini):
    fake_gemini.mode = 500
    result = understand(gemini_rt, APPLES_LINE)
    assert result.source == "offline" and items(result) == {"APPLE": 2}
    assert len(fake_gemini.requests) == 2  # GEMINI_RETRY_ATTEMPTS=2 through HttpRetryOptions
    assert stats(gemini_rt)["nlu_fallback:error"] == 1


def test_one_500_then_an_answer_is_rescued_by_the_retry(gemini_rt, fake_gemini):
    fake_gemini.queue(503)
    fake_gemini.script(EGGS_LINE, APPLES_AND_EGGS)
    result = understand(gemini_rt, EGGS_LINE)
    assert result.source == "gemini" and len(fake_gemini.requests) == 2
    assert not any(k.startswith("nlu_fallback") for k in stats(gemini_rt))


def test_a_429_falls_back_as_rate_limited(gemini_rt, fake_gemini):
    fake_gemini.mode = 429
    assert understand(gemini_rt, APPLES_LINE).source == "offline"
    assert stats(gemini_rt)["nlu_fallback:rate_limited"] == 1


def test_a_slow_model_is_cut_at_the_timeout(gemini_rt, fake_gemini):
    fake_gemini.mode = "slow"  # the fake would take 10 s
    started = time.monotonic()
    result = understand(gemini_rt, APPLES_LINE)
    waited = time.monotonic() - started
    assert result.source == "offline" and items(result) == {"APPLE": 2}
    assert fake_gemini.requests[0]["headers"]["x-server-timeout"] == "1"  # the SDK got GEMINI_TIMEOUT_SECONDS=1
    assert waited < 1 + 2  # the timeout plus a moment (generous: shared CPUs), never the 10 s
    assert stats(gemini_rt)["nlu_fallback:timeout"] == 1
    gemini_rt.nlu.reader.gate.caller.pool.shutdown(wait=True)  # let the SDK's own attempt end in the background
    assert len(fake_gemini.requests) == 1  # and it did not retry past the deadline


def test_the_model_shrugging_leaves_the_offline_reading(gemini_rt, fake_gemini):
    result = understand(gemini_rt, "tell me whats in my cart please")  # the fake's default: intent unknown
    assert result.intent == "show_cart" and len(fake_gemini.requests) == 1


def test_the_models_unknown_is_never_replaced_by_a_spelling_correction(gemini_rt, fake_gemini):
    # "chese" is only cheese by correcting a letter: when the model says it does not know, it stays so
    assert understand(gemini_rt, "chese").intent == "unknown"
    fake_gemini.script("cheddar", {"intent": "unknown", "language": "en"})
    assert items(understand(gemini_rt, "cheddar")) == {"CHEDDAR": 1}  # typed exactly: the offline reading stands


@pytest.mark.parametrize("unit", [None, "each"])
def test_pieces_counted_are_pieces_whatever_unit_the_model_gives(gemini_rt, fake_gemini, unit):
    fake_gemini.script("6 bananas", {"intent": "add_items", "language": "en",
                                     "items": [{"sku": "BANANA", "name": "bananas", "quantity": 6, "unit": unit}]})
    [item] = understand(gemini_rt, "6 bananas").items
    assert (item.sku, item.quantity, item.count) == ("BANANA", 1.2, 6)  # not 6 kg


def test_a_question_the_model_leaves_open_is_answered_from_the_catalog(gemini_rt, fake_gemini):
    fake_gemini.script("I want to know the price of eggs", {"intent": "question", "answer": None, "language": "en"})
    result = understand(gemini_rt, "I want to know the price of eggs")
    assert result.intent == "question" and result.asked == {"kind": "price", "skus": ["EGGS"]} and not result.items


# -- breaker, cap, cache ----------------------------------------------------------------------------

def test_the_breaker_opens_after_failures_for_every_process_and_probes_again(gemini_settings, gemini_rt, fake_gemini,
                                                                             fake_redis, store, senders):
    other = build(gemini_settings, redis=fake_redis, store=store, senders=senders, load_sample=False)
    fake_gemini.mode = 500
    for n in range(3):  # GEMINI_BREAKER_FAILURES=3
        assert understand(gemini_rt, f"{n + 1} kg of apples, the crunchy ones").source == "offline"
    assert gemini_rt.nlu.reader.gate.breaker.state() == "open" and stats(gemini_rt)["nlu_breaker_opened"] == 1
    asked = len(fake_gemini.requests)
    fake_gemini.mode = None
    fake_gemini.script(EGGS_LINE, APPLES_AND_EGGS)
    assert understand(other, EGGS_LINE).source == "offline"  # another process
    assert len(fake_gemini.requests) == asked and stats(gemini_rt)["nlu_fallback:breaker_open"] == 1

    fake_redis.delete(redis_keys.NLU_BREAKER_OPEN)  # the cool-down is over: half-open, one probe
    fake_gemini.mode = 500
    assert understand(gemini_rt, EGGS_LINE).source == "offline"
    assert gemini_rt.nlu.reader.gate.breaker.state() == "open"  # the probe failed: open again at once
    assert stats(gemini_rt)["nlu_breaker_opened"] == 2

    fake_redis.delete(redis_keys.NLU_BREAKER_OPEN)
    fake_gemini.mode = None
    assert understand(other, EGGS_LINE).source == "gemini"
    assert gemini_rt.nlu.reader.gate.breaker.state() == "closed"


def test_only_one_process_probes_a_half_open_breaker(gemini_rt):
    breaker = gemini_rt.nlu.reader.gate.breaker
    breaker.open()
    gemini_rt.redis.delete(redis_keys.NLU_BREAKER_OPEN)
    assert breaker.state() == "half_open"
    assert [breaker.allow(), breaker.allow()] == [True, False]


def test_the_per_customer_cap(fake_gemini, fake_redis, store, senders):
    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, GEMINI_API_KEY=GEMINI_KEY,
                             GEMINI_API_URL=fake_gemini.url, GEMINI_MAX_CALLS_PER_MINUTE=2)
    rt = build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)
    for n in (1, 2, 3):
        result = understand(rt, f"{n} kg of apples, the crunchy ones")
    assert len(fake_gemini.requests) == 2 and items(result) == {"APPLE": 3}
    assert stats(rt)["nlu_fallback:capped"] == 1
    understand(rt, "3 kg of apples, the crunchy ones", who="phone:+14155550202")  # someone else is not capped
    assert len(fake_gemini.requests) == 3


def test_identical_requests_are_cached_briefly(gemini_rt, fake_gemini):
    fake_gemini.script(EGGS_LINE, APPLES_AND_EGGS)
    first = understand(gemini_rt, EGGS_LINE)
    again = understand(gemini_rt, "Apples, two kilos,  and a dozen of the eggs, TA", who="phone:+14155550202")
    assert items(again) == items(first) == {"APPLE": 2, "EGGS": 12} and len(fake_gemini.requests) == 1
    understand(gemini_rt, EGGS_LINE, history=[("bot", "Added 1 × Bread.")])  # another context: asked again
    assert len(fake_gemini.requests) == 2 and stats(gemini_rt)["nlu_cache_hits"] == 1
    ttl = [gemini_rt.redis.ttl(k) for k in gemini_rt.redis.scan_iter("ol:nlu:cache:*")]
    assert ttl and all(0 < t <= 60 for t in ttl)


def test_a_cached_answer_is_repeated_only_to_the_customer_it_was_given_to(gemini_rt, fake_gemini):
    fake_gemini.script("when do you deliver?", {"intent": "question", "language": "en", "cited_faq": ["delivery_hours"],
                                                "answer": "Monday to Saturday 9 am to 8 pm, Sunday 10 am to 4 pm."})
    assert understand(gemini_rt, "when do you deliver?").answer.startswith("Monday")
    assert understand(gemini_rt, "when do you deliver?").answer.startswith("Monday")
    assert len(fake_gemini.requests) == 1
    understand(gemini_rt, "when do you deliver?", who="phone:+14155550202")
    assert len(fake_gemini.requests) == 2


# -- settings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, message", [
    ({"GEMINI_MAX_CALLS_PER_MINUTE": "0"}, "GEMINI_MAX_CALLS_PER_MINUTE"),
    ({"GEMINI_CACHE_SECONDS": "-1"}, "GEMINI_CACHE_SECONDS"),
    ({"GEMINI_BREAKER_FAILURES": "0"}, "GEMINI_BREAKER_FAILURES"),
    ({"GEMINI_BREAKER_COOLDOWN_SECONDS": "0"}, "GEMINI_BREAKER_COOLDOWN_SECONDS"),
    ({"GEMINI_RETRY_ATTEMPTS": "9"}, "GEMINI_RETRY_ATTEMPTS"),
    ({"GEMINI_TIMEOUT_SECONDS": "0"}, "GEMINI_TIMEOUT_SECONDS"),
    ({"GEMINI_MODEL": "../../admin"}, "GEMINI_MODEL must be a model name"),
])
def test_gemini_settings_are_checked_and_named(env, message):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert message in str(err.value)
