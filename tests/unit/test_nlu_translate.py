"""Customers who write in Spanish, French or Hindi read the reply in their language when Gemini is
on, with every number exactly as the shop computed it; otherwise they read English."""
from __future__ import annotations

import re
import time

import pytest

from bot.common import redis_keys
from bot.nlu.translate import protect
from statemachine import prompts

ANA = "+14155550101"


def stats(rt) -> dict:
    return {k.decode(): int(v) for k, v in rt.redis.hgetall(redis_keys.STATS).items()}


def at_order(pipe):
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "1"):
        pipe.texts(line, phone=ANA, user=ANA)
    return lambda text: pipe.texts(text, phone=ANA, user=ANA)


APPLES = [{"name": "apples", "quantity": 2, "unit": "kg"}]


def test_numbers_are_held_out_of_the_text_sent_and_put_back():
    held = protect("Order #1042 is placed. Total: $12.50 for 2 kg. We texted +1 ••• ••• 2671.")
    assert held.text == "Order ⟦1⟧ is placed. Total: ⟦2⟧ for ⟦3⟧ kg. We texted ⟦4⟧."
    assert held.restore("El pedido ⟦1⟧ está hecho. Total: ⟦2⟧ por ⟦3⟧ kg. Enviado a ⟦4⟧.") == \
        "El pedido #1042 está hecho. Total: $12.50 por 2 kg. Enviado a +1 ••• ••• 2671."
    assert held.kept_by("⟦4⟧ ⟦3⟧ ⟦2⟧ ⟦1⟧")
    assert not held.kept_by("El pedido ⟦1⟧. Total: ⟦2⟧.")  # a number lost
    assert not held.kept_by("⟦1⟧ ⟦2⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧")  # a number doubled
    assert not held.kept_by("⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ y 10% de descuento")  # a number invented
    assert not held.kept_by("  ")


@pytest.mark.parametrize("language, line, added, cart", [
    ("es", "quiero dos kilos de manzanas", "Añadido 2 kg × Manzanas (Gala)", "Tu carrito:"),
    ("fr", "je voudrais deux kilos de pommes", "Ajouté 2 kg × Apples (Gala)", "Votre panier :"),
    ("hi", "मुझे दो किलो सेब चाहिए", "जोड़ा गया 2 kg × Apples (Gala)", "आपकी टोकरी:"),
])
def test_the_reply_is_in_the_customers_language_with_the_shops_numbers(gemini_pipeline, fake_gemini, language, line,
                                                                       added, cart):
    say = at_order(gemini_pipeline)
    fake_gemini.script(line, {"intent": "add_items", "items": APPLES, "language": language})
    out = say(line)
    assert added in out and cart in out and "$8.78" in out
    [asked] = fake_gemini.translations_asked()
    doc = fake_gemini.document(asked)
    sent = re.sub(r"⟦\d+⟧", "", "".join(doc["texts"]))
    assert doc["language"] == language and "⟦" in doc["texts"][0] and not any(ch.isdigit() for ch in sent)
    conv = gemini_pipeline.conversation(f"phone:{ANA}")
    assert conv["history"][-1][1].startswith("Added 2 kg")  # the machine's own record stays English


def test_later_digits_only_lines_stay_in_the_customers_language(gemini_pipeline, fake_gemini):
    say = at_order(gemini_pipeline)
    fake_gemini.script("quiero dos kilos de manzanas", {"intent": "add_items", "items": APPLES, "language": "es"})
    say("quiero dos kilos de manzanas")
    fake_gemini.script("menú", {"intent": "menu", "language": "es"})
    assert "Hacer un pedido" in say("menú")
    assert "¿Qué te gustaría?" in say("1")  # "1" is read offline; the reply is still Spanish


def test_a_translation_that_changes_a_number_is_not_sent(gemini_pipeline, fake_gemini):
    say = at_order(gemini_pipeline)
    fake_gemini.script("quiero dos kilos de manzanas", {"intent": "add_items", "items": APPLES, "language": "es"})
    fake_gemini.queue({"intent": "add_items", "items": APPLES, "language": "es"},
                      {"texts": ["Añadido 3 kg de manzanas. Total: ⟦1⟧"]})
    out = say("quiero dos kilos de manzanas")
    assert out.startswith("Added 2 kg × Apples (Gala).") and "$8.78" in out
    assert stats(gemini_pipeline.rt)["translate_fallback:invalid"] == 1


def test_a_failed_translation_sends_english(gemini_pipeline, fake_gemini):
    say = at_order(gemini_pipeline)
    fake_gemini.queue({"intent": "add_items", "items": APPLES, "language": "es"}, 500, 500)
    assert say("quiero dos kilos de manzanas").startswith("Added 2 kg × Apples (Gala).")
    assert stats(gemini_pipeline.rt)["translate_fallback:error"] == 1


def test_a_turn_that_used_its_time_does_not_wait_for_a_translation(gemini_rt, fake_gemini):
    texts = gemini_rt.nlu.translate(["Added 2 kg × Apples."], "es", f"phone:{ANA}", time.monotonic() - 0.9)
    assert texts is None and fake_gemini.requests == []  # GEMINI_TIMEOUT_SECONDS=1, 0.9 s already spent
    assert stats(gemini_rt)["translate_fallback:no_time"] == 1


def test_identical_replies_are_translated_once(gemini_rt, fake_gemini):
    first = gemini_rt.nlu.translate(["Your cart:\n• 2 kg × Apples — $8.78"], "es", "a", time.monotonic())
    second = gemini_rt.nlu.translate(["Your cart:\n• 3 kg × Apples — $13.17"], "es", "b", time.monotonic())
    assert first == ["Tu carrito:\n• 2 kg × Apples — $8.78"] and second == ["Tu carrito:\n• 3 kg × Apples — $13.17"]
    assert len(fake_gemini.requests) == 1 and stats(gemini_rt)["translate_cache_hits"] == 1


def test_with_gemini_down_a_spanish_line_gets_a_polite_english_answer(gemini_pipeline, fake_gemini):
    say = at_order(gemini_pipeline)
    fake_gemini.stop()
    assert say("quiero dos kilos de manzanas") == prompts.ENGLISH_ONLY
    assert "Added 2 kg × Apples" in say("2 kg of apples")  # English still orders, offline
    assert stats(gemini_pipeline.rt)["nlu_fallback:error"] == 1  # (a line read with certainty asks nothing)


def test_without_gemini_a_spanish_line_gets_a_polite_english_answer(pipeline):
    say = at_order(pipeline)
    assert say("quiero dos kilos de manzanas") == prompts.ENGLISH_ONLY
    assert say("Je voudrais du lait, s'il vous plaît") == prompts.ENGLISH_ONLY


def test_deleting_my_data_forgets_my_language(gemini_pipeline, fake_gemini):
    say = at_order(gemini_pipeline)
    fake_gemini.script("quiero dos kilos de manzanas", {"intent": "add_items", "items": APPLES, "language": "es"})
    say("quiero dos kilos de manzanas")
    assert list(gemini_pipeline.rt.redis.scan_iter("ol:nlu:lang:*"))
    for line, reading in (("menú", {"intent": "menu"}), ("borrar mis datos", {"intent": "delete_data"}),
                          ("sí, bórralo todo", {"intent": "yes"})):
        fake_gemini.script(line, {**reading, "language": "es"})
        say(line)
    assert gemini_pipeline.rt.store.customers.find_by_phone(ANA) is None
    assert not list(gemini_pipeline.rt.redis.scan_iter("ol:nlu:lang:*"))
