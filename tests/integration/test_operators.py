"""Tier 3, the operators' side on the production-shaped stack: a real redis-server, two real
worker processes (their senders write to `ol:test:sent`), HTTP served by this process.

The stack is shared by the session, so figures are compared as differences around a burst."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from bot.customers.handoff import handoff_id
from bot.pipeline import InboundMessage
from statemachine import prompts
from statemachine.prompts import ORDER_UPDATES
from tests.support.operators import OP, metric_values
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration


def accept(live, channel, address, text, phone=None) -> None:
    """A message as a channel adapter hands it over (the adapters' own tests post real webhooks)."""
    live.rt.ingress.accept(InboundMessage(channel=channel, message_id=uuid.uuid4().hex, address=address, text=text,
                                          contact=phone))


def sent_to(live, address) -> list[str]:
    """What the workers' real senders handed to the fake Twilio (WhatsApp/SMS) or Telegram API."""
    texts = [m["Body"] for m in live.twilio.messages() if m.get("To") in (address, f"whatsapp:{address}")]
    return texts + [m["text"] for m in live.telegram.sent(chat_id=address)]


def wait_for(predicate, what: str, timeout: float = 20):
    return wait_until(predicate, what, timeout)


def settle(live, address, replies: int) -> list[str]:
    """Until `address` has had `replies` messages sent and no work is left."""
    return wait_for(lambda: len(sent_to(live, address)) >= replies and not live.rt.mailboxes.pending_count()
                    and sent_to(live, address), f"{replies} replies to {address}")


def stats(live) -> dict:
    res = live.client.get("/stats", headers=OP)
    assert res.status_code == 200
    return res.get_json()


def new_phone() -> str:
    return f"+1415556{uuid.uuid4().int % 10000:04d}"


def test_stats_and_metrics_count_a_burst_across_channels_and_processes(live):
    before, metrics_before = stats(live), metric_values(live.client.get("/metrics").get_data(as_text=True))
    user, api_phone, wa, tg = live.unique("burst"), new_phone(), new_phone(), str(uuid.uuid4().int % 10 ** 9)
    api_replies = 0
    for line in ("hi", "Ida", "9 Main Street, Springfield", "1", "a dozen eggs", "done", "yes"):
        api_replies += len(live.chat(user, line, api_phone)["replies"])
    for n, line in enumerate(("hi", "Wes", "10 Main Street, Springfield"), 1):
        accept(live, "whatsapp", wa, line, wa)
        settle(live, wa, n)
    accept(live, "telegram", tg, "hi")
    settle(live, tg, 1)
    after = stats(live)

    def delta(part, key):
        return Counter(after[part][key]) - Counter(before[part][key])

    assert delta("messages", "in") == Counter(api=7, whatsapp=3, telegram=1)
    assert delta("messages", "turns") == Counter(api=7, whatsapp=3, telegram=1)
    assert delta("messages", "out") == Counter(api=api_replies, whatsapp=3, telegram=1)
    assert delta("messages", "sent") == Counter(whatsapp=3, telegram=1)
    assert after["orders"]["total"] - before["orders"]["total"] == 1
    [order] = live.rt.store.orders.search(phone=api_phone)
    assert after["orders"]["revenue_cents"]["total"] - before["orders"]["revenue_cents"]["total"] == order["total_cents"]
    assert after["orders"]["today"] - before["orders"]["today"] == 1
    assert delta("conversations", "started_by_channel") == Counter(api=1, whatsapp=1, telegram=1)
    assert after["conversations"]["completed"] - before["conversations"]["completed"] == 1
    for channel, n in (("api", 7), ("whatsapp", 3), ("telegram", 1)):
        assert after["latency_ms"][channel]["count"] - before["latency_ms"].get(channel, {"count": 0})["count"] == n
    assert after["workers_alive"] == 2  # the two worker processes, seen through RQ's registry in Redis
    assert after["queues"]["mailboxes_waiting"] == 0
    metrics = metric_values(live.client.get("/metrics").get_data(as_text=True))
    for channel, n in (("api", 7), ("whatsapp", 3), ("telegram", 1)):
        key = ("orderline_messages_in_total", (("channel", channel),))
        assert metrics[key] - metrics_before.get(key, 0) == n
    assert metrics[("orderline_workers_alive", ())] == 2


def test_a_status_change_reaches_the_customer_through_the_live_worker(live):
    wa = new_phone()
    lines = ("hi", "Ola", "11 Main Street, Springfield", "1", "2 kg of apples", "done", "yes")
    for n, line in enumerate(lines, 1):
        accept(live, "whatsapp", wa, line, wa)
        settle(live, wa, n)
    [order] = live.rt.store.orders.search(phone=wa)
    res = live.client.post(f"/api/orders/{order['_id']}/status", json={"status": "out_for_delivery"}, headers=OP)
    assert res.status_code == 200 and res.get_json()["notified"] == "outbound"
    expected = ORDER_UPDATES["out_for_delivery"].format(number=order["number"])
    wait_for(lambda: expected in sent_to(live, wa), "the status update on WhatsApp")
    assert live.client.post(f"/api/orders/{order['_id']}/status", json={"status": "cancelled"},
                            headers=OP).status_code == 409


def test_handoff_round_trip_through_the_live_workers(live):
    wa = new_phone()
    for n, line in enumerate(("hi", "Pat", "12 Main Street, Springfield", "talk to a person"), 1):
        accept(live, "whatsapp", wa, line, wa)
        settle(live, wa, n)
    assert sent_to(live, wa)[-1] == prompts.HANDOFF_STARTED
    key = handoff_id(f"phone:{wa}")  # the opaque id the operators' URLs carry
    waiting = live.client.get("/api/handoffs", headers=OP).get_json()["waiting"]
    assert key in [w["key"] for w in waiting]
    accept(live, "whatsapp", wa, "hello? anyone?", wa)
    assert live.client.post(f"/api/handoffs/{key}/reply", json={"text": "Hi Pat, it's Sam."}, headers=OP).status_code == 202
    settle(live, wa, 5)
    assert sent_to(live, wa)[-1] == "Hi Pat, it's Sam."  # and nothing from the bot for "hello? anyone?"
    assert live.client.post(f"/api/handoffs/{key}/handback", headers=OP).status_code == 202
    settle(live, wa, 6)
    assert sent_to(live, wa)[-1].startswith(prompts.HANDED_BACK)
    assert key not in [w["key"] for w in live.client.get("/api/handoffs", headers=OP).get_json()["waiting"]]


def test_the_retention_job_is_scheduled_once_by_rqs_scheduler(live):
    """The worker holding RQ's scheduler runs the sweep, which schedules the daily retention run."""
    registry = ScheduledJobRegistry(queue=Queue("maintenance", connection=live.rt.redis))
    ids = wait_for(lambda: [j for j in registry.get_job_ids() if j.startswith("retention-")], "a scheduled retention run")
    assert len(ids) == 1  # however many sweeps have run since (they re-ask every few seconds)
