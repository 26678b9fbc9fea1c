"""The pipeline's promises when something is slow, hostile or concurrent, on a real redis-server
with real worker processes (the fault stack: a 1 s lease, a 6 s step budget).

Each test asserts what a customer or the shop would notice: everyone answered, once, in order;
a poison message parked with an apology and nobody else held up; one order per "yes".
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from bot.pipeline import deadletters
from bot.pipeline import keys as pkeys
from tests.conftest import OPERATOR_TOKEN
from tests.faults.conftest import register

pytestmark = pytest.mark.integration
OP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
_phones = iter(range(1000, 9999))


def phone() -> str:
    return f"+1415557{next(_phones):04d}"


def refused(stack) -> int:
    return int(stack.rt.redis.hget(pkeys.STATS, "commits_refused") or 0)


def texts_to(stack, address: str) -> list[str]:
    return [m["text"] for m in stack.sent() if m["address"] == address]


def test_a_step_of_two_and_a_half_seconds_for_forty_customers_answers_everyone_once(fault_stack):
    numbers, before = [phone() for _ in range(40)], refused(fault_stack)
    fault_stack.set("ol:test:step_delay", "2.5")  # a slow model, inside its timeout
    try:
        started = time.monotonic()
        ids = [fault_stack.send("hi", address=n) for n in numbers]
        fault_stack.wait(lambda: all(fault_stack.sent_for(m) for m in ids), timeout=60, what="forty replies")
        took = time.monotonic() - started
    finally:
        fault_stack.set("ol:test:step_delay")
    fault_stack.idle()
    assert all(len(fault_stack.sent_for(m)) == 1 for m in ids)  # once each
    assert refused(fault_stack) == before  # no lease ran out under a slow step
    assert took < 30, took  # side by side in the workers' lanes, not one after another (100 s)


def test_a_step_that_hangs_is_parked_and_nobody_else_waits_for_it(fault_stack):
    poisoned, others = phone(), [phone() for _ in range(10)]
    fault_stack.set("ol:test:hang_on", "a poison pill")
    try:
        bad = fault_stack.send("a poison pill", address=poisoned)
        later = fault_stack.send("hi", address=poisoned)
        ids = [fault_stack.send("hi", address=n) for n in others]
        fault_stack.wait(lambda: all(fault_stack.sent_for(m) for m in ids), timeout=20, what="the others")
        fault_stack.wait(lambda: fault_stack.sent_for(later), timeout=30, what="the poisoned customer's next reply")
    finally:
        fault_stack.set("ol:test:hang_on")
    [apology] = fault_stack.sent_for(bad)
    assert "something went wrong" in apology["text"]  # told once
    [entry] = [fault_stack.rt.deadletters.get(d["id"]) for d in fault_stack.rt.deadletters.recent(1000)
               if d["message_id"] == bad]
    assert entry["kind"] == "inbound" and "longer than 6 s" in entry["reason"]
    assert "Welcome" in fault_stack.sent_for(later)[0]["text"]  # their later message went on


def test_a_yes_on_sms_and_on_whatsapp_at_once_places_one_order(fault_stack):
    store, redis = fault_stack.rt.store, fault_stack.rt.redis
    numbers, now = [phone() for _ in range(50)], time.time()
    for n in numbers:  # fifty customers, each at "Shall I place it?"
        customer = store.customers.save(n, "Twin Channel", "2 Echo Road, Springfield")
        redis.set(pkeys.conversation(f"phone:{n}").state, json.dumps({
            "state": "confirm", "step": None, "phone": n, "name": "Twin Channel",
            "address": "2 Echo Road, Springfield", "customer_id": customer["_id"],
            "cart": [{"sku": "LEMON", "quantity": 2}], "pending": {}, "history": [], "salt": "s",
            "started_at": now, "updated_at": now, "turns": 5, "version": 1}))
    store.products.update("LEMON", stock=1000)
    ids = {}

    def yes(n, channel):
        ids[(n, channel)] = fault_stack.send("yes", address=n, channel=channel)

    threads = [threading.Thread(target=yes, args=(n, ch)) for n in numbers for ch in ("sms", "whatsapp")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fault_stack.idle(timeout=90)
    for n in numbers:
        assert store.orders.count({"phone": n, "status": "confirmed"}) == 1, n
        said = [fault_stack.sent_for(ids[(n, ch)]) for ch in ("sms", "whatsapp")]
        assert all(len(s) == 1 for s in said)  # each message answered once
        assert sum("is placed" in s[0]["text"] for s in said) == 1  # and only one of them placed it
    assert store.products.stock("LEMON") == 1000 - 2 * len(numbers)


def test_replies_leave_in_commit_order_when_the_provider_is_jittery(fault_stack):
    number = phone()
    register(fault_stack, number)
    fault_stack.send("1", address=number)
    fault_stack.idle()
    fault_stack.set("ol:test:send_delay", "0,0.3")
    try:
        lines = [f"{n} kg of potatoes" if n % 2 else "remove the potatoes" for n in range(1, 21)]
        ids = [fault_stack.send(line, address=number) for line in lines]
        fault_stack.idle(timeout=90)
    finally:
        fault_stack.set("ol:test:send_delay")
    sent = [m for m in fault_stack.sent() if m["address"] == number and m["reply_id"].split(":")[1] in ids]
    order = [ids.index(m["reply_id"].split(":")[1]) for m in sent]
    assert order == list(range(20))  # each once, in the order they were committed


def test_a_provider_taking_one_and_a_half_seconds_never_gets_a_reply_twice(fault_stack):
    numbers = [phone() for _ in range(60)]
    fault_stack.set("ol:test:send_delay", "1.5,1.5")  # longer than the 1 s lease
    try:
        ids = [fault_stack.send("hi", address=n) for n in numbers]
        fault_stack.idle(timeout=120)
    finally:
        fault_stack.set("ol:test:send_delay")
    assert all(len(fault_stack.sent_for(m)) == 1 for m in ids)


def test_a_store_outage_parks_nothing_loses_nothing_and_keeps_the_order(fault_stack):
    outage_and_traffic(fault_stack, seconds=12)


@pytest.mark.slow
def test_a_three_minute_store_outage_parks_nothing_loses_nothing_and_keeps_the_order(fault_stack):
    outage_and_traffic(fault_stack, seconds=180)


def outage_and_traffic(stack, seconds: float) -> None:
    numbers = [phone() for _ in range(5)]
    for n in numbers:
        register(stack, n)
    parked_before = stack.rt.deadletters.count()
    stack.set("ol:test:store_faults", "1.0")
    lines = ["1", "2 kg of apples", "a dozen eggs", "cart"]
    ids = {}
    try:
        for line in lines:  # the customers keep writing while MongoDB is away
            for n in numbers:
                ids[(n, line)] = stack.send(line, address=n)
            time.sleep(seconds / len(lines))
    finally:
        stack.set("ol:test:store_faults")
    stack.idle(timeout=120)
    assert stack.rt.deadletters.count() == parked_before  # nothing parked
    for n in numbers:
        replies = [stack.sent_for(ids[(n, line)]) for line in lines]
        assert all(len(r) == 1 for r in replies), n  # nothing lost, nothing doubled
        cart = replies[-1][0]["text"]
        assert "Apples" in cart and "eggs" in cart  # each line acted on, in order


def test_each_kind_of_dead_letter_goes_back_where_it_belongs_and_nothing_wedges(fault_stack):
    client, rt = fault_stack.client, fault_stack.rt
    # outbound: the channel refuses the reply once; retried, it is delivered
    refused_to = phone()
    rt.redis.sadd("ol:test:refuse_once", refused_to)
    first = fault_stack.send("hi", address=refused_to)
    fault_stack.idle()
    outbound = wait_for_dead_letter(fault_stack, "outbound", refused_to)
    assert retry(client, outbound["id"]).status_code == 202
    fault_stack.wait(lambda: fault_stack.sent_for(first), what="the retried reply")

    # inbound: a message parked after its step hung; retried once the cause is gone, it is processed
    hung = phone()
    fault_stack.set("ol:test:hang_on", "stuck line")
    stuck = fault_stack.send("stuck line", address=hung)
    inbound = wait_for_dead_letter(fault_stack, "inbound", hung, timeout=30)
    fault_stack.set("ol:test:hang_on")
    fault_stack.idle()
    apologies = len(fault_stack.sent_for(stuck))
    assert retry(client, inbound["id"]).status_code == 202
    fault_stack.wait(lambda: len(fault_stack.sent_for(stuck)) == apologies + 1, what="the retried message's reply")

    # delivery: the provider accepted a reply, then reported it undelivered; retried, it is sent again
    from channels.twilio_messaging import record_delivery_failure

    [reply] = fault_stack.sent_for(first)
    record_delivery_failure(rt, "SM" + "b" * 32, f"whatsapp:{refused_to}", "undelivered", "30003", "unreachable",
                            reply["reply_id"])
    delivery = wait_for_dead_letter(fault_stack, "delivery", refused_to)
    assert retry(client, delivery["id"]).status_code == 202
    fault_stack.wait(lambda: len(texts_to(fault_stack, refused_to)) >= 2, what="the resent reply")
    assert texts_to(fault_stack, refused_to)[-1] == reply["text"]

    # undecodable: junk at the head of a mailbox and of an outbox is parked; what follows goes on
    junk_to = phone()
    k = pkeys.identity(f"whatsapp:{junk_to}")
    rt.redis.rpush(k.outbox, "{not a reply")
    rt.redis.zadd(pkeys.OUT_READY, {k.tag: 0})
    rt.redis.rpush(k.mailbox, "\x00 not a message")
    rt.redis.zadd(pkeys.READY, {k.tag: 0})
    after = fault_stack.send("hi", address=junk_to)
    fault_stack.wait(lambda: fault_stack.sent_for(after), what="the message after the junk")
    junk = [d for d in rt.deadletters.recent(1000) if d["kind"] == "undecodable"]
    assert len(junk) >= 2
    res = retry(client, junk[0]["id"])
    assert res.status_code == 409 and "cannot be retried" in res.get_json()["error"]
    fault_stack.idle()


def wait_for_dead_letter(stack, kind: str, address: str, timeout: float = 20) -> dict:
    def found():
        return next((d for d in stack.rt.deadletters.recent(1000)
                     if d["kind"] == kind and d["to"].endswith(address[-4:])), None)

    return stack.wait(found, timeout=timeout, what=f"a {kind} dead letter")


def retry(client, entry_id: str):
    return client.post(f"/api/deadletters/{entry_id}/retry", headers=OP)


def test_an_unreadable_entry_is_parked_with_its_reason(fault_stack):
    number = phone()
    k = pkeys.identity(f"whatsapp:{number}")
    fault_stack.rt.redis.rpush(k.mailbox, json.dumps({"channel": "whatsapp"}))  # a message missing its fields
    fault_stack.rt.redis.zadd(pkeys.READY, {k.tag: 0})
    fault_stack.wait(lambda: not fault_stack.rt.redis.llen(k.mailbox), what="the bad entry parked")
    entry = next(fault_stack.rt.deadletters.get(d["id"]) for d in fault_stack.rt.deadletters.recent(1000)
                 if d["kind"] == "undecodable")
    assert entry["reason"] == "not a message" and entry["retryable"] is False
    assert deadletters.Kind(entry["kind"]) is deadletters.Kind.UNDECODABLE
