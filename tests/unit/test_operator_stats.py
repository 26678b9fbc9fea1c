"""GET /stats and GET /metrics after a scripted burst of conversations on four channels: every
figure equals what the test itself sent, saw answered, and placed."""
from __future__ import annotations

import time

import fakeredis
import pytest
from rq import Queue

from bot.operations import figures
from bot.runtime import build
from tests.conftest import API_TOKEN
from tests.support.operators import OP, burst, burst_senders, metric_values


@pytest.fixture
def senders(fake_redis):
    return burst_senders(fake_redis)


@pytest.mark.parametrize("path", ["/stats", "/api/dashboard"])
def test_operator_figures_need_the_operator_token(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer " + OP["Authorization"][7:-1] + "x"}).status_code == 401
    assert client.get(path, headers=OP).status_code == 200


def test_stats_equal_the_burst(client, pipeline, rt, senders):
    expected = burst(pipeline)
    s = client.get("/stats", headers=OP).get_json()
    sent = dict(expected["sent"])
    assert s["messages"]["in"] == sent == s["messages"]["turns"]
    assert s["messages"]["duplicates_dropped"] == {"telegram": 1}
    delivered = {"whatsapp": len(senders["whatsapp"].sent), "telegram": len(senders["telegram"].sent)}
    assert delivered == {"whatsapp": 4, "telegram": 1}  # Cleo: 3 registration replies + "a person will reply"
    assert s["messages"]["sent"] == delivered
    assert s["messages"]["out"] == {**expected["sync_replies"], "whatsapp": 4, "telegram": 2}  # one refused

    orders = rt.store.orders.search()
    assert s["orders"]["total"] == s["orders"]["today"] == expected["orders"] == len(orders)
    by_channel = {o["channel"]: o["total_cents"] for o in orders}
    assert s["orders"]["revenue_cents"] == {"total": sum(by_channel.values()), "today": sum(by_channel.values()),
                                            "by_channel": by_channel, "cancelled_total": 0, "cancelled_today": 0}
    assert s["conversations"] == {"total": 5, "active": 5, "completed": 2, "abandoned": 0,
                                  "started_by_channel": dict(expected["started"])}
    assert s["handoffs_waiting"] == 1
    assert s["dead_letters"] == {"waiting": 1, "inbound_total": 0, "outbound_total": 1}
    for channel, n in sent.items():
        latency = s["latency_ms"][channel]
        assert latency["count"] == n and latency["p50_ms"] <= latency["p95_ms"]
    assert s["queues"]["mailboxes_waiting"] == 0 and s["queues"]["outbound_pending"] == 0
    assert s["failed_jobs"] == {"messages": 0, "outbound": 0, "maintenance": 0}
    assert s["customers"] == {"registered": 3, "erased": 0}
    assert s["workers_alive"] == 0 and s["nlu"]["calls"] == 0  # no RQ worker in this tier; offline parser


def test_figures_are_shared_by_every_process(pipeline, rt, fake_redis, store, settings):
    """A second runtime (another web process) on the same Redis and MongoDB reports the same figures."""
    burst(pipeline)
    other = build(settings, redis=fakeredis.FakeRedis(server=fake_redis.connection_pool.connection_kwargs["server"]),
                  store=store, senders={}, load_sample=False)
    mine, theirs = figures.snapshot(rt), figures.snapshot(other)
    for part in ("messages", "orders", "conversations", "dead_letters", "latency_ms", "handoffs_waiting"):
        assert mine[part] == theirs[part], part


def test_queue_depths_show_work_waiting(client, pipeline, rt):
    pipeline.send("hi", user="a", phone="+14155550111")
    pipeline.send("hello", user="a", phone="+14155550111")
    pipeline.send("hi", user="b", phone="+14155550112")
    q = client.get("/stats", headers=OP).get_json()["queues"]
    assert q["mailboxes_waiting"] == 2 and q["messages"] == 1  # two customers' mailboxes, one drain job queued
    pipeline.drain()
    q = client.get("/stats", headers=OP).get_json()["queues"]
    assert q["mailboxes_waiting"] == 0 and q["messages"] == Queue("messages", connection=rt.redis).count


def test_model_calls_and_fallbacks_are_read_when_the_language_model_counts_them(client, rt):
    for field, n in (("nlu_calls", 4), ("nlu_fallback:timeout", 1), ("nlu_fallback:invalid_json", 2),
                     ("nlu_tokens_in", 900), ("nlu_tokens_out", 120), ("nlu_latency_ms_sum", 2000),
                     ("translate_calls", 2), ("translate_in_reading", 1), ("nlu_offline_only", 9),
                     ("orders_placed", 3), ("model_config_error", 1)):
        rt.redis.hincrby("ol:stats", field, n)
    nlu = client.get("/stats", headers=OP).get_json()["nlu"]
    assert nlu == {"calls": 4, "fallbacks": 3, "fallback_causes": {"invalid_json": 2, "timeout": 1},
                   "tokens_in": 900, "tokens_out": 120, "latency_ms_avg": 500.0,
                   "model_calls": 6, "translate_calls": 2, "translated_in_reading": 1, "offline_only": 9,
                   "calls_per_order": 2.0, "config_errors": 1, "last_config_error": None}
    values = metric_values(client.get("/metrics").get_data(as_text=True))
    assert values[("orderline_nlu_fallbacks_total", (("cause", "timeout"),))] == 1
    assert values[("orderline_nlu_latency_seconds_sum", ())] == 2.0
    assert values[("orderline_model_calls_total", (("kind", "translation"),))] == 2
    assert values[("orderline_model_calls_per_order", ())] == 2.0
    assert values[("orderline_model_config_errors_total", ())] == 1


def test_metrics_equal_the_burst(client, pipeline, senders):
    expected = burst(pipeline)
    res = client.get("/metrics")
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/plain")
    values = metric_values(res.get_data(as_text=True))
    for channel, n in expected["sent"].items():
        assert values[("orderline_messages_in_total", (("channel", channel),))] == n
        assert values[("orderline_processing_latency_seconds_count", (("channel", channel),))] == n
        assert values[("orderline_processing_latency_seconds_bucket", (("channel", channel), ("le", "+Inf")))] == n
    assert values[("orderline_messages_out_total", (("channel", "whatsapp"),))] == 4
    assert values[("orderline_messages_sent_total", (("channel", "telegram"),))] == 1
    assert values[("orderline_duplicates_dropped_total", (("channel", "telegram"),))] == 1
    assert values[("orderline_orders_total", (("outcome", "placed"),))] == 2
    assert values[("orderline_orders_total", (("outcome", "cancelled"),))] == 0
    assert values[("orderline_conversations_ended_total", (("outcome", "completed"),))] == 2
    assert values[("orderline_conversations_active", ())] == 5
    assert values[("orderline_handoffs_waiting", ())] == 1
    assert values[("orderline_dead_letters_waiting", ())] == 1
    assert values[("orderline_dead_letters_total", (("kind", "outbound"),))] == 1
    assert values[("orderline_queue_depth", (("queue", "mailboxes_waiting"),))] == 0
    assert values[("orderline_workers_alive", ())] == 0


def test_revenue_leaves_cancelled_orders_out_and_says_how_much_they_were(client, pipeline, rt):
    burst(pipeline)
    orders = rt.store.orders.search()
    kept, gone = orders
    assert client.post(f"/api/orders/{gone['_id']}/status", json={"status": "cancelled"}, headers=OP).status_code == 200
    revenue = client.get("/stats", headers=OP).get_json()["orders"]["revenue_cents"]
    assert revenue["total"] == revenue["today"] == kept["total_cents"]
    assert revenue["cancelled_total"] == revenue["cancelled_today"] == gone["total_cents"]
    assert revenue["by_channel"] == {kept["channel"]: kept["total_cents"]}
    values = metric_values(client.get("/metrics").get_data(as_text=True))
    assert values[("orderline_revenue_cents", (("channel", kept["channel"]),))] == kept["total_cents"]
    assert values[("orderline_revenue_cancelled_cents", ())] == gone["total_cents"]


def test_a_conversation_that_orders_twice_is_completed_once(client, pipeline):
    phone = "+14155550177"
    for line in ("hi", "Tess", "9 Elm Street, Springfield", "1", "a dozen eggs", "done", "yes",
                 "1", "2 kg of apples", "done", "yes"):
        pipeline.say(line, user="tess", phone=phone)
    s = client.get("/stats", headers=OP).get_json()
    assert s["orders"]["total"] == 2
    assert s["conversations"]["total"] == 1 and s["conversations"]["completed"] == 1  # completed <= total


def test_workers_alive_counts_the_in_process_worker_of_make_run(client, rt):
    from workers.run import InProcessWorker

    def alive(want: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while client.get("/stats", headers=OP).get_json()["workers_alive"] != want:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    assert alive(0, 0)
    worker = InProcessWorker(rt).start()
    try:
        assert alive(1)
        time.sleep(1.5)  # idle between jobs (RQ then counts no worker): still alive
        assert alive(1, 0)
    finally:
        worker.stop()
    assert alive(0)  # a worker that stops says so


def test_metrics_token_when_set(client, rt):
    rt.settings.METRICS_TOKEN = "metrics-token-0123456789"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=OP).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"}).status_code == 200


def test_quantiles_interpolate_inside_the_bucket():
    buckets = [(25.0, 0), (50.0, 10), (100.0, 8), (250.0, 2), (float("inf"), 0)]
    assert figures.quantile(buckets, 0.5) == 50.0
    assert figures.quantile(buckets, 0.95) == 175.0
    assert figures.quantile([(25.0, 0), (float("inf"), 3)], 0.5) == 25.0  # slower than every bound: the last bound
    assert figures.quantile([(25.0, 0), (float("inf"), 0)], 0.5) is None
