"""The offline parser reads English only and knows when a line is not English; operators' latency
percentiles come from the histogram the model calls leave in ol:stats."""
from __future__ import annotations

import pytest

from bot.nlu.language import foreign_language
from bot.nlu.model_counters import ModelStats, latency_percentile
from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext
from bot.shop.catalog import Catalog
from bot.shop.catalog_import import load_sample_catalog


@pytest.mark.parametrize("text, language", [
    ("quiero dos kilos de manzanas", "es"), ("hola", "es"), ("sí", "es"), ("¿Cuándo entregan?", "es"),
    ("Je voudrais deux litres de lait", "fr"), ("bonjour", "fr"), ("Ich möchte Milch, bitte", "de"),
    ("मुझे दो किलो सेब चाहिए", "hi"), ("mujhe do kilo seb chahiye", "hi"), ("Хочу молоко", "ru"),
    ("2 kg of apples and a dozen eggs", None), ("is the cheddar lactose free?", None), ("crème fraîche", None),
    ("no", None), ("blorp", None), ("2 kilos of apples", None), ("a jalapeño please", None), ("", None),
])
def test_a_line_that_is_not_english_is_recognised(text, language):
    assert foreign_language(text) == language


@pytest.fixture(scope="module")
def parser():
    return OfflineParser(Catalog(load_sample_catalog()))


@pytest.mark.parametrize("state", ["menu", "order", "confirm"])
def test_the_offline_parser_says_it_cannot_read_another_language(parser, state):
    result = parser.understand("quiero dos kilos de manzanas", NluContext(state=state))
    assert result.intent == "other_language" and result.language == "es"


def test_what_the_offline_parser_can_read_is_still_read(parser):
    assert parser.understand("2 kg of apples", NluContext(state="order")).intent == "add_items"
    assert parser.understand("hola", NluContext(state="greeting")).intent == "greeting"
    assert parser.understand("Crème fraîche?", NluContext(state="order")).intent != "other_language"


def test_names_and_addresses_are_never_called_foreign(parser):
    for line in ("José García", "Calle de los Olivos 12, Madrid"):
        assert parser.understand(line, NluContext(state="register", step="name")).intent != "other_language"


def test_latency_percentiles_from_the_histogram(fake_redis):
    recorder = ModelStats(fake_redis)
    for ms in [80] * 50 + [300] * 40 + [1500] * 9 + [9000]:
        recorder.call("nlu", ms, 100, 10)
    stats = {k.decode(): int(v) for k, v in fake_redis.hgetall("ol:stats").items()}
    assert stats["nlu_calls"] == 100 and stats["nlu_latency_ms_sum"] == 50 * 80 + 40 * 300 + 9 * 1500 + 9000
    assert latency_percentile(stats, "nlu", 0.5) == 100
    assert latency_percentile(stats, "nlu", 0.95) == 2000
    assert latency_percentile(stats, "nlu", 1.0) == float("inf")
    assert latency_percentile({}, "nlu", 0.5) is None
