"""GET /metrics: the /stats figures in Prometheus' text format, labelled by channel and outcome.

A custom prometheus-client Collector reads the shared figures (bot/operations/figures.py) at scrape time, so
any web process answers for the whole deployment: every worker and web process on every machine
writes the same Redis counters. Open by default like most exporters; with METRICS_TOKEN set,
a scrape must send `Authorization: Bearer $METRICS_TOKEN` (Prometheus: `authorization`).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, abort, current_app
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.operations import activity, figures
from bot.web import current
from bot.web.bearer import bearer_token, token_matches
from bot.web.current import runtime

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from bot.runtime import Runtime

bp = Blueprint("metrics", __name__)
P = "orderline_"


class OrderlineCollector:
    """Yields every family from one stats snapshot per scrape."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        s = figures.snapshot(self.rt)
        m, conv, orders = s["messages"], s["conversations"], s["orders"]
        yield _by_label(CounterMetricFamily, "messages_in", "Customer messages accepted", "channel", m["in"])
        yield _by_label(CounterMetricFamily, "messages_out", "Messages said to customers", "channel", m["out"])
        yield _by_label(CounterMetricFamily, "messages_sent", "Messages a channel's sender accepted", "channel",
                        m["sent"])
        yield _by_label(CounterMetricFamily, "turns", "Customer messages processed", "channel", m["turns"])
        yield _by_label(CounterMetricFamily, "duplicates_dropped", "Redelivered messages dropped", "channel",
                        m["duplicates_dropped"])
        yield _by_label(CounterMetricFamily, "operator_messages", "Operators' replies and hand-backs", "kind",
                        {"reply": m["operator_replies"], "handback": m["handbacks"]})
        yield _by_label(CounterMetricFamily, "conversations_started", "Conversations started", "channel",
                        conv["started_by_channel"])
        yield _by_label(CounterMetricFamily, "conversations_ended", "Conversations by outcome", "outcome",
                        {"completed": conv["completed"], "abandoned": conv["abandoned"]})
        yield _gauge("conversations_active", "Conversations with a message within the idle timeout", conv["active"])
        yield _by_label(CounterMetricFamily, "orders", "Orders by outcome", "outcome",
                        {"placed": orders["total"], **{k: orders[k] for k in figures.ORDER_OUTCOMES if k != "placed"}})
        revenue = orders["revenue_cents"]
        yield _by_label(GaugeMetricFamily, "revenue_cents", "Value of orders placed and not cancelled or expired, "
                        "in minor units", "channel", revenue["by_channel"])
        yield _gauge("revenue_cancelled_cents", "Value of orders placed, then cancelled or expired",
                     revenue["cancelled_total"])
        yield _gauge("orders_today", "Orders placed since 00:00 UTC (cancelled ones included)", orders["today"])
        yield _gauge("revenue_today_cents", "Value of orders placed since 00:00 UTC and not cancelled or expired",
                     revenue["today"])
        yield _by_label(GaugeMetricFamily, "queue_depth", "Work waiting, per queue", "queue", s["queues"])
        yield _by_label(GaugeMetricFamily, "failed_jobs", "Jobs in RQ's failed registry", "queue", s["failed_jobs"])
        dead = s["dead_letters"]
        yield _gauge("dead_letters_waiting", "Dead letters waiting for an operator", dead["waiting"])
        yield _by_label(CounterMetricFamily, "dead_letters", "Work parked as dead letters", "kind",
                        {"inbound": dead["inbound_total"], "outbound": dead["outbound_total"]})
        nlu = s["nlu"]
        yield _counter("nlu_calls", "Language-model calls", nlu["calls"])
        yield _by_label(CounterMetricFamily, "nlu_fallbacks", "Answers the offline parser gave instead", "cause",
                        nlu["fallback_causes"])
        yield _by_label(CounterMetricFamily, "nlu_tokens", "Language-model tokens", "direction",
                        {"in": nlu["tokens_in"], "out": nlu["tokens_out"]})
        yield SummaryMetricFamily(P + "nlu_latency_seconds", "Language-model call time", count_value=nlu["calls"],
                                  sum_value=s["counters"].get("nlu_latency_ms_sum", 0) / 1000)
        yield _by_label(CounterMetricFamily, "model_calls", "Language-model calls by purpose", "kind",
                        {"reading": nlu["calls"], "translation": nlu["translate_calls"]})
        yield _gauge("model_calls_per_order", "Language-model calls per order placed (since counters began)",
                     nlu["calls_per_order"] or 0)
        yield _counter("model_config_errors", "Requests the model API refused (bad key, retired model, refused field)",
                       nlu["config_errors"])
        yield _latency(s["latency_ms"])
        yield _gauge("workers_alive", "RQ workers registered and alive", s["workers_alive"])
        yield _gauge("handoffs_waiting", "Conversations waiting for a person", s["handoffs_waiting"])
        yield _gauge("uptime_seconds", "Seconds since the first process started", s["uptime_seconds"])
        yield _by_label(CounterMetricFamily, "customers", "Customer records by event", "event", s["customers"])
        verification = dict(s["verification"])
        refused = verification.pop("codes_refused")
        yield _by_label(CounterMetricFamily, "verification", "One-time codes and lock-outs", "event", verification)
        yield _by_label(CounterMetricFamily, "codes_refused", "One-time codes the shop's policy refused", "reason",
                        refused)
        rated = s["feedback"]
        yield _by_label(CounterMetricFamily, "feedback_ratings", "Customers' ratings of delivered orders", "rating",
                        rated["by_rating"])
        if rated["average"] is not None:
            yield _gauge("feedback_rating_average", "Average rating of delivered orders (1-5)", rated["average"])
        for part, doc in (("sent", "Messages the shop sent first, by kind"),
                          ("silent", "Messages the shop meant to send first that were no longer true"),
                          ("deferred", "Messages the shop sends first held for quiet hours")):
            yield _by_label(CounterMetricFamily, f"outreach_{part}", doc, "kind", s["outreach"][part])


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(P + name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(P + name, doc, value=value)


def _by_label(family: type[CounterMetricFamily | GaugeMetricFamily], name: str, doc: str, label: str,
              values: dict) -> CounterMetricFamily | GaugeMetricFamily:
    metric = family(P + name, doc, labels=[label])
    for key, value in sorted(values.items()):
        metric.add_metric([key], value)
    return metric


def _latency(per_channel: dict) -> HistogramMetricFamily:
    """The processing-latency histogram (acceptance to commit), cumulative buckets in seconds."""
    metric = HistogramMetricFamily(P + "processing_latency_seconds", "Time from accepting a message to its answer",
                                   labels=["channel"])
    for channel, h in per_channel.items():
        running, buckets = 0, []
        for bound in [*map(str, activity.LATENCY_BUCKETS_MS), activity.INF]:
            running += h["buckets"].get(bound, 0)
            buckets.append((bound if bound == activity.INF else repr(int(bound) / 1000), running))
        metric.add_metric([channel], buckets, sum_value=h["sum_ms"] / 1000)
    return metric


def registry_for(app: Flask) -> CollectorRegistry:
    registry = app.extensions.get("orderline_metrics")
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(OrderlineCollector(app.extensions[current.EXTENSION]))
        app.extensions["orderline_metrics"] = registry
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    settings = runtime().settings
    if settings.METRICS_TOKEN and not token_matches(bearer_token(), settings.METRICS_TOKEN):
        abort(401, description="missing or wrong bearer token")
    return Response(generate_latest(registry_for(current_app)), mimetype=None,
                    headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
