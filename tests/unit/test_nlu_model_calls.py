"""Fewer, current, concurrent model calls, through the real google-genai SDK against the strict fake:
a refused request is a configuration error with the API's own words, not an outage; each model
family is asked the way it accepts; many customers' calls are in flight at once; a reading is never
shared by two customers whose conversations differ; a reply is translated in the reading's call."""
from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from bot.common import redis_keys
from bot.config import load_settings
from bot.nlu.gemini import GeminiCaller
from bot.nlu.model_counters import last_config_error
from bot.nlu.models import family_of
from bot.nlu.schema import ModelReading
from bot.nlu.types import NluContext
from bot.runtime import build
from tests.conftest import API_TOKEN, GEMINI_KEY, OPERATOR_TOKEN, PLAIN_SHOP
from tests.support.fake_gemini import MODELS

OP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
TWO_MORE = "add two more of those"


def stats(rt) -> dict:
    return {k.decode(): int(v) for k, v in rt.redis.hgetall(redis_keys.STATS).items()}


def runtime(fake_gemini, fake_redis, store, senders, **overrides):
    settings = load_settings({}, **{"API_TOKEN": API_TOKEN, "OPERATOR_TOKEN": OPERATOR_TOKEN,
                                    "GEMINI_API_KEY": GEMINI_KEY, "GEMINI_API_URL": fake_gemini.url,
                                    "GEMINI_TIMEOUT_SECONDS": 3, "SHOP_FILE": PLAIN_SHOP, **overrides})
    rt = build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)
    rt.catalog.current()
    return rt


def understand(rt, text, who="phone:+14155550101", state="order", history=()):
    return rt.nlu.understand(text, NluContext(state=state, customer_key=who, history=list(history)))


# -- a refused request is a configuration error, said in the API's words ------------------------------

def test_a_retired_model_is_a_configuration_error_with_the_apis_message(fake_gemini, fake_redis, store, senders,
                                                                        caplog):
    rt = runtime(fake_gemini, fake_redis, store, senders, GEMINI_MODEL="gemini-2.0-flash", GEMINI_BREAKER_FAILURES=2)
    caplog.set_level(logging.ERROR, logger="orderline.nlu")
    for n in (1, 2, 3):
        result = understand(rt, f"{n} kg of apples, the crunchy ones")
        assert result.source == "offline" and result.items[0].quantity == n  # the customer is still answered
    said = "models/gemini-2.0-flash is not found for API version v1beta"
    s = stats(rt)
    assert s["model_config_error"] == 3 and s["nlu_fallback:config"] == 3
    assert not any(k.startswith("nlu_fallback:error") for k in s)  # not an outage...
    assert rt.nlu.reader.gate.breaker.state() == "closed" and "nlu_breaker_opened" not in s  # ...and no breaker
    assert len(fake_gemini.requests) == 3  # each turn asked (and was refused at once); no silent offline mode
    error = last_config_error(rt.redis)
    assert error["status"] == 404 and error["model"] == "gemini-2.0-flash" and said in error["message"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and said in r.getMessage()]
    assert len(logged) == 1  # at ERROR, with the API's message, once a minute rather than once a turn
    assert "GEMINI_MODEL" in logged[0].getMessage() and GEMINI_KEY not in caplog.text


def test_the_operators_see_the_configuration_error(fake_gemini, fake_redis, store, senders):
    from bot.app import create_app

    rt = runtime(fake_gemini, fake_redis, store, senders, GEMINI_MODEL="gemini-2.0-flash")
    understand(rt, "2 kg of apples, the crunchy ones")
    client = create_app(rt).test_client()
    nlu = client.get("/stats", headers=OP).get_json()["nlu"]
    assert nlu["config_errors"] == 1 and "is not found for API version" in nlu["last_config_error"]["message"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "orderline_model_config_errors_total 1.0" in metrics


def test_a_bad_key_is_a_configuration_error(fake_gemini, fake_redis, store, senders):
    rt = runtime(fake_gemini, fake_redis, store, senders, GEMINI_API_KEY="not-the-key-0123456789")
    assert understand(rt, "2 kg of apples, the crunchy ones").source == "offline"
    error = last_config_error(rt.redis)
    assert error["status"] == 400 and error["message"] == "API key not valid. Please pass a valid API key."


def test_the_strict_fake_refuses_what_the_unpinned_sdk_sends(fake_gemini):
    """google-genai 3.4 defaults the Developer API to v1, which does not know these fields: what
    Orderline's pinned version avoids (and what a lenient fake would hide)."""
    from google import genai
    from google.genai import errors, types

    client = genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=fake_gemini.url))
    with pytest.raises(errors.ClientError) as refused:
        client.models.generate_content(model="gemini-3.5-flash-lite", contents="hi", config=types.GenerateContentConfig(
            system_instruction="read", response_mime_type="application/json"))
    assert refused.value.code == 400 and 'Unknown name "systemInstruction"' in refused.value.message
    assert fake_gemini.requests[0]["path"].startswith("/v1/")


# -- each family asked the way it accepts -----------------------------------------------------------

@pytest.mark.parametrize("model, thinking, temperature", [
    ("gemini-3.5-flash-lite", {"thinking_level": "MINIMAL"}, None),
    ("gemini-3.1-flash-lite", {"thinking_level": "MINIMAL"}, None),
    ("gemini-3.6-flash", {"thinking_level": "MINIMAL"}, None),
    ("gemini-3.8-flash", {"thinking_level": "LOW"}, None),  # it has no MINIMAL
    ("gemini-3.1-pro-preview", {"thinking_level": "LOW"}, None),
    ("gemini-2.5-flash", {"thinking_budget": 0}, 0.0),
    ("gemini-2.5-flash-lite", {"thinking_budget": 0}, 0.0),
    ("gemini-2.5-pro", {"thinking_budget": 128}, 0.0),  # it cannot stop thinking
])
def test_each_model_family_is_asked_the_way_it_accepts(fake_gemini, model, thinking, temperature):
    caller = GeminiCaller(GEMINI_KEY, model, 3, fake_gemini.url)
    call = caller.generate("read", json.dumps({"customer_message": "hi"}), ModelReading)
    assert call.parsed is not None  # the strict fake took it
    config = fake_gemini.requests[-1]["body"]["generationConfig"]
    assert config["thinkingConfig"] == thinking and config.get("temperature") == temperature


def test_every_model_the_fake_knows_has_a_family():
    assert all(family_of(model).name != "other" for model in MODELS)


# -- many customers at once, each customer's reading their own ----------------------------------------

@pytest.mark.parametrize("concurrency, expected", [(16, 8), (3, 3)])
def test_different_customers_calls_are_in_flight_together_up_to_the_setting(fake_gemini, fake_redis, store, senders,
                                                                            concurrency, expected):
    rt = runtime(fake_gemini, fake_redis, store, senders, GEMINI_CONCURRENCY=concurrency)
    fake_gemini.latency = 0.4
    results = {}
    threads = [threading.Thread(target=lambda n=n: results.update({n: understand(
        rt, f"{n} kg of apples, the crunchy ones", who=f"phone:+1415555{n:04d}")})) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8 and len(fake_gemini.requests) == 8
    assert fake_gemini.most_at_once() == expected


def test_two_customers_with_different_recent_turns_never_share_a_reading(fake_gemini, fake_redis, store, senders):
    """Both say "add two more of those"; Alice was talking about bananas, Bob about eggs."""
    rt = runtime(fake_gemini, fake_redis, store, senders)
    alice = [("customer", "a bunch of bananas"), ("bot", "Added 1 × Bananas.")]
    bob = [("customer", "a dozen eggs"), ("bot", "Added 12 × Large eggs.")]
    fake_gemini.queue({"intent": "add_items", "language": "en", "items": [{"sku": "BANANA", "quantity": 2}]},
                      {"intent": "add_items", "language": "en", "items": [{"sku": "EGGS", "quantity": 2}]})
    a = understand(rt, TWO_MORE, who="phone:+14155550101", history=alice)
    b = understand(rt, TWO_MORE, who="phone:+14155550102", history=bob)
    assert [i.sku for i in a.items] == ["BANANA"] and [i.sku for i in b.items] == ["EGGS"]
    assert len(fake_gemini.requests) == 2 and "nlu_cache_hits" not in stats(rt)
    # the same customer context again is the same reading, from the cache
    again = understand(rt, TWO_MORE, who="phone:+14155550103", history=bob)
    assert [i.sku for i in again.items] == ["EGGS"] and len(fake_gemini.requests) == 2


# -- a reply translated in the reading's own call -----------------------------------------------------

def test_a_new_customer_writing_spanish_is_read_and_answered_in_spanish_with_one_call(gemini_pipeline, fake_gemini):
    fake_gemini.script("hola, quiero hacer un pedido", {"intent": "order", "language": "es"})
    out = gemini_pipeline.texts("hola, quiero hacer un pedido", phone="+14155550199", user="+14155550199")
    assert "Bienvenido a" in out and "¿Cómo te llamas?" in out  # the welcome, in Spanish
    [call] = fake_gemini.requests  # one call: the reading, and the reply's lines
    doc = fake_gemini.document(call)
    assert doc["reply_to_translate"] and not any(ch.isdigit() for line in doc["reply_to_translate"] for ch in line
                                                 if ch not in "⟦⟧")
    s = stats(gemini_pipeline.rt)
    assert s["nlu_calls"] == 1 and "translate_calls" not in s and s["translate_in_reading"] == 1


def test_a_customers_name_is_never_sent_to_be_translated(gemini_pipeline, fake_gemini):
    phone = "+14155550198"
    fake_gemini.script("hola", {"intent": "greeting", "language": "es"})
    for line in ("hola", "Zoraida Quintanilla", "12 Calle Mayor, Springfield"):
        out = gemini_pipeline.texts(line, phone=phone, user=phone)
    assert "Zoraida Quintanilla" in out  # said back to her, untouched
    sent = json.dumps([r["body"] for r in fake_gemini.requests], ensure_ascii=False)
    assert "Zoraida" not in sent and "Calle Mayor" not in sent and fake_gemini.translations_asked()


def test_customers_needing_the_same_lines_at_once_share_one_translation_call(fake_gemini, fake_redis, store, senders):
    rt = runtime(fake_gemini, fake_redis, store, senders)
    fake_gemini.latency = 0.4
    out = {}
    texts = lambda n: [f"Added {n} kg × Apples (Gala).\nYour cart:\n• {n} kg × Apples (Gala) — ${n * 4.39:.2f}"]  # noqa: E731
    threads = [threading.Thread(target=lambda n=n: out.update({n: rt.nlu.translate(
        texts(n), "es", f"phone:+1415555{n:04d}", time.monotonic())})) for n in range(1, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert out[3] == ["Añadido 3 kg × Manzanas (Gala).\nTu carrito:\n• 3 kg × Manzanas (Gala) — $13.17"]
    assert all(out[n] and f"{n} kg" in out[n][0] for n in out)  # each with their own numbers
    assert len(fake_gemini.requests) == 1 and stats(rt)["translate_shared"] == 4


def test_reply_lines_the_reading_call_got_wrong_are_refused_counted_and_asked_again(gemini_pipeline, fake_gemini):
    fake_gemini.queue({"intent": "order", "language": "es", "reply_texts": ["Bienvenido a 99 tiendas"]})
    out = gemini_pipeline.texts("hola, quiero hacer un pedido", phone="+14155550197", user="+14155550197")
    assert "Bienvenido a" in out and "99" not in out  # an invented number never reaches the customer
    s = stats(gemini_pipeline.rt)
    assert s["translate_fallback:invalid_in_reading"] == 1 and s["translate_calls"] == 1
    assert len(fake_gemini.requests) == 2


def test_a_returning_customer_writing_spanish_gets_one_call_and_their_name_stays_here(gemini_pipeline, fake_gemini):
    phone = "+14155550196"
    gemini_pipeline.rt.store.customers.save(phone, "Zoraida Quintanilla", "12 Calle Mayor, Springfield")
    fake_gemini.script("hola", {"intent": "greeting", "language": "es"})
    out = gemini_pipeline.texts("hola", phone=phone, user=phone)
    assert out.startswith("Bienvenido de nuevo, Zoraida Quintanilla") and "Hacer un pedido" in out
    [call] = fake_gemini.requests  # the reading and the welcome's translation in one call
    assert "Zoraida" not in json.dumps(call["body"], ensure_ascii=False)
    assert stats(gemini_pipeline.rt)["translate_in_reading"] == 1
