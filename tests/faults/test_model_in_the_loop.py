"""A slow language model never slows the shop: real redis-server, two real worker processes, the real
google-genai SDK against the strict fake Gemini answering after a fixed latency.

What a customer would notice: everyone answered, once; one customer's replies in the order they
wrote; the model's reading used (not a timeout's fallback) even at 2.5 s a call. What the fake saw:
many customers' calls at once, but never two of one customer's.
"""
from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest

from bot.app import create_app
from bot.config import load_settings
from bot.pipeline import keys as pkeys
from bot.runtime import build
from tests.conftest import GEMINI_KEY, live_env, own_shop_file
from tests.faults.conftest import Stack, Workers
from tests.support.fake_gemini import FakeGemini

pytestmark = pytest.mark.integration
_phones = iter(range(1000, 9999))


@pytest.fixture(scope="module")
def model_stack(mongo_server, tmp_path_factory):
    from tests.support.redis_server import RedisServer

    redis_server = RedisServer().start()
    gemini = FakeGemini(api_key=GEMINI_KEY).start()
    env = live_env(redis_server, mongo_server, MONGO_DB=f"model_{uuid.uuid4().hex[:6]}", RATE_LIMIT_PER_MINUTE="1000",
                   GEMINI_API_KEY=GEMINI_KEY, GEMINI_API_URL=gemini.url, GEMINI_TIMEOUT_SECONDS="4",
                   SHOP_FILE=own_shop_file(tmp_path_factory, "model"))
    settings = load_settings(env)
    rt = build(settings, load_sample=True)
    workers = Workers(env)
    workers.start(2)
    stack = Stack(rt, create_app(rt).test_client(), workers, redis_server)
    stack.gemini = gemini
    yield stack
    workers.stop()
    gemini.stop()
    redis_server.stop()


def shopping(stack, count: int) -> list[str]:
    """`count` registered customers, each with an empty cart, writing from WhatsApp."""
    numbers, now = [f"+1415558{next(_phones):04d}" for _ in range(count)], time.time()
    for n in numbers:
        customer = stack.rt.store.customers.save(n, "Mo Del", "3 Model Road, Springfield")
        stack.rt.redis.set(pkeys.conversation(f"phone:{n}").state, json.dumps({
            "state": "order", "step": None, "phone": n, "name": "Mo Del", "address": "3 Model Road, Springfield",
            "customer_id": customer["_id"], "cart": [], "chosen": {}, "pending": {}, "history": [], "salt": "s",
            "started_at": now, "updated_at": now, "turns": 4, "version": 1}))
    return numbers


def unsure(kilos: int) -> str:
    """A line the offline parser cannot fully place, so it goes to the model."""
    return f"{kilos} kg of apples, the crunchy ones"


def apples(kilos: int) -> dict:
    return {"intent": "add_items", "language": "en", "items": [{"sku": "APPLE", "name": "apples", "quantity": kilos,
                                                                 "unit": "kg"}]}


def texts_to(stack, address: str) -> list[str]:
    return [m["text"] for m in stack.sent() if m["address"] == address]


def test_calls_for_different_customers_overlap_while_one_customers_lines_stay_in_order(model_stack):
    stack, gemini = model_stack, model_stack.gemini
    gemini.reset()
    gemini.latency = 0.8
    zed, *others = shopping(stack, 13)
    for kilos in range(1, 18):
        gemini.script(unsure(kilos), apples(kilos))
    zed_ids = [stack.send(unsure(kilos), address=zed) for kilos in range(1, 6)]  # five lines in a row
    other_ids = [stack.send(unsure(kilos), address=n) for kilos, n in zip(range(6, 18), others, strict=True)]
    stack.wait(lambda: all(stack.sent_for(m) for m in zed_ids + other_ids), timeout=60, what="every reply")
    stack.idle()
    assert all(len(stack.sent_for(m)) == 1 for m in zed_ids + other_ids)  # everyone answered, once
    said = texts_to(stack, zed)
    assert [next(line for line in s.split("\n") if line.startswith("Added")) for s in said] == [
        f"Added {kilos} kg × Apples (Gala)." for kilos in range(1, 6)]  # in the order Zed wrote them
    assert said[-1].count("Apples") >= 2 and "15 kg × Apples" in said[-1]  # each from the cart the last one left
    asked = {gemini.document(r)["customer_message"]: r for r in gemini.readings_asked()}
    zeds = [asked[unsure(kilos)] for kilos in range(1, 6)]
    assert all(a["ended"] <= b["started"] for a, b in itertools.pairwise(zeds))  # one of Zed's calls at a time
    assert gemini.most_at_once() >= 10  # but many customers' calls at once (13 customers, 2 workers)
    assert not any(k.startswith("nlu_fallback") for k in stack_stats(stack))  # every reading was the model's


def test_a_model_answering_in_two_and_a_half_seconds_answers_forty_customers_each_once(model_stack):
    stack, gemini = model_stack, model_stack.gemini
    gemini.reset()
    gemini.latency = 2.5
    numbers = shopping(stack, 40)
    line = "{} kg of potatoes, the waxy ones".format
    for kilos in range(1, 41):
        gemini.script(line(kilos), {"intent": "add_items", "language": "en", "items": [
            {"sku": "POTATO", "name": "potatoes", "quantity": kilos, "unit": "kg"}]})
    before = stack_stats(stack)
    ids = {n: stack.send(line(kilos), address=n) for kilos, n in zip(range(1, 41), numbers, strict=True)}
    stack.wait(lambda: all(stack.sent_for(m) for m in ids.values()), timeout=90, what="forty replies")
    stack.idle()
    for kilos, n in zip(range(1, 41), numbers, strict=True):
        [reply] = stack.sent_for(ids[n])  # once
        assert f"Added {kilos} kg × Potatoes (Russet)." in reply["text"]
    after = stack_stats(stack)
    assert after.get("nlu_calls", 0) - before.get("nlu_calls", 0) == 40
    assert not any(k.startswith("nlu_fallback") for k in after)  # no timeout: the model's reading, every time
    assert after.get("commits_refused", 0) == before.get("commits_refused", 0)
    assert gemini.most_at_once() >= 20


def stack_stats(stack) -> dict:
    return {k.decode(): int(v) for k, v in stack.rt.redis.hgetall("ol:stats").items()}
