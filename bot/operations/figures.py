"""The operators' figures, computed in one place for /stats, /metrics and the dashboard.

Everything comes from what every process shares: the `ol:stats` counters (written inside each
turn's commit, by whichever worker on whichever machine), RQ's queues and registries, the
mailboxes and the outbound stream in Redis, and today's orders in MongoDB. Nothing is kept in
one process's memory except that process's own start time.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry

from bot.common import redis_keys
from bot.customers import handoff
from bot.nlu.model_counters import last_config_error
from bot.operations import activity
from bot.pipeline import queues
from bot.pipeline.ingress import OPERATOR

if TYPE_CHECKING:
    from bot.runtime import Runtime

PROCESS_STARTED = time.time()
WORKER_BEAT_SECONDS = 5  # every worker process (production or in-process) says it is alive this often
QUEUE_NAMES = (queues.MESSAGES, queues.OUTBOUND, queues.MAINTENANCE)
ORDER_OUTCOMES = {"placed": "orders_placed", "refused_stock": "orders_refused_stock",
                  "cancelled": "orders_cancelled", "abandoned": "orders_abandoned"}


def mark_started(redis: Redis) -> None:
    """Remember when the first process started against this Redis (kept until Redis is emptied)."""
    redis.set(redis_keys.STARTED_AT, repr(time.time()), nx=True)


def worker_beat(redis: Redis, worker_id: str, now: float | None = None) -> None:
    """A worker process is alive (its maintenance thread calls this every WORKER_BEAT_SECONDS). Counts
    the embedded default's in-process worker too, which RQ sees only while it holds a job."""
    now = time.time() if now is None else now
    redis.zadd(redis_keys.WORKERS_ALIVE, {worker_id: now + 3 * WORKER_BEAT_SECONDS})


def worker_gone(redis: Redis, worker_id: str) -> None:
    redis.zrem(redis_keys.WORKERS_ALIVE, worker_id)


def workers_alive(redis: Redis, now: float | None = None) -> int:
    """Worker processes alive: those beating, or RQ's registered workers if more (a plain `rq worker`)."""
    now = time.time() if now is None else now
    redis.zremrangebyscore(redis_keys.WORKERS_ALIVE, "-inf", now)
    return max(int(redis.zcard(redis_keys.WORKERS_ALIVE)), Worker.count(connection=redis))


def counters(redis: Redis) -> dict[str, int]:
    return {_text(k): int(v) for k, v in redis.hgetall(redis_keys.STATS).items()}


def by_channel(c: dict[str, int], prefix: str) -> dict[str, int]:
    """{channel: n} for counters named '<prefix>:<channel>' (the shop's control messages left out)."""
    out = {}
    for name, n in c.items():
        head, _, channel = name.partition(":")
        if head == prefix and channel and channel != OPERATOR:
            out[channel] = n
    return dict(sorted(out.items()))


def by_prefix(c: dict[str, int], prefix: str) -> dict[str, int]:
    """{suffix: n} for counters named '<prefix>:<suffix>' (e.g. codes refused, by reason)."""
    return {name.split(":", 1)[1]: n for name, n in c.items() if name.startswith(prefix + ":")}


def quantile(buckets: list[tuple[float, int]], q: float) -> float | None:
    """The q-quantile of a histogram [(upper bound, count)] (non-cumulative, ascending, last bound
    inf), interpolated linearly inside its bucket as Prometheus' histogram_quantile does."""
    total = sum(n for _, n in buckets)
    if not total:
        return None
    rank, seen, lower = q * total, 0, 0.0
    for bound, n in buckets:
        if n and seen + n >= rank:
            if bound == float("inf"):
                return lower  # beyond the last finite bound: report that bound
            return round(lower + (bound - lower) * (rank - seen) / n, 1)
        seen += n
        lower = bound if bound != float("inf") else lower
    return lower


def latency(c: dict[str, int]) -> dict[str, dict]:
    """Per channel: turns measured, p50 and p95 in ms, and the histogram itself (for /metrics)."""
    out: dict[str, dict] = {}
    for name, n in c.items():
        if not name.startswith("latency_ms:"):
            continue
        _, channel, bound = name.split(":", 2)
        entry = out.setdefault(channel, {"buckets": {}, "sum_ms": c.get(f"latency_ms_sum:{channel}", 0)})
        entry["buckets"][bound] = n
    for entry in out.values():
        buckets = [(float(b), entry["buckets"].get(str(b), 0)) for b in activity.LATENCY_BUCKETS_MS]
        buckets.append((float("inf"), entry["buckets"].get(activity.INF, 0)))
        entry["count"] = sum(n for _, n in buckets)
        entry["p50_ms"], entry["p95_ms"] = quantile(buckets, 0.5), quantile(buckets, 0.95)
        entry["buckets"] = {str(b if b != float("inf") else activity.INF).removesuffix(".0"): n for b, n in buckets}
    return dict(sorted(out.items()))


def queue_depths(rt: Runtime) -> tuple[dict[str, int], dict[str, int]]:
    """(jobs waiting per RQ queue plus the mailboxes and replies waiting, failed jobs per queue)."""
    depths, failed = {}, {}
    for name in QUEUE_NAMES:
        q = Queue(name, connection=rt.redis)
        depths[name] = q.count
        failed[name] = FailedJobRegistry(queue=q).count
    depths["mailboxes_waiting"] = rt.mailboxes.pending_count()
    depths["outbound_pending"] = rt.outbox.pending()
    return depths, failed


def start_of_today(now: float) -> float:
    day = datetime.fromtimestamp(now, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


def snapshot(rt: Runtime, now: float | None = None) -> dict:
    """Every figure an operator watches, as one JSON-safe dict."""
    now = time.time() if now is None else now
    redis, c = rt.redis, counters(rt.redis)
    started = redis.get(redis_keys.STARTED_AT)
    depths, failed = queue_depths(rt)
    revenue, revenue_today = rt.store.revenue.totals(), rt.store.revenue.totals(start_of_today(now))
    fallbacks = {name.split(":", 1)[1]: n for name, n in c.items() if name.startswith("nlu_fallback:")}
    started_by_channel = by_channel(c, "conversations_started")
    return {
        "generated_at": now,
        "uptime_seconds": round(now - float(started), 1) if started else 0.0,
        "process_uptime_seconds": round(now - PROCESS_STARTED, 1),
        "conversations": {
            "total": sum(started_by_channel.values()),
            "active": activity.active_conversations(redis, rt.settings.IDLE_TIMEOUT_MINUTES * 60, now),
            "completed": c.get("conversations_completed", 0),
            "abandoned": c.get("conversations_abandoned", 0),
            "started_by_channel": started_by_channel,
        },
        "messages": {
            "in": by_channel(c, "messages_in"), "out": by_channel(c, "messages_out"),
            "sent": by_channel(c, "sent"), "turns": by_channel(c, "turns"),
            "duplicates_dropped": by_channel(c, "duplicates"),
            "operator_replies": c.get("operator_replies", 0), "handbacks": c.get("handbacks", 0),
        },
        "orders": {
            "total": c.get("orders_placed", 0),
            "today": revenue_today["kept_orders"] + revenue_today["undone_orders"],
            # what the shop keeps: cancelled and expired orders are apart, never in the revenue
            "revenue_cents": {"total": revenue["kept"], "today": revenue_today["kept"],
                              "by_channel": revenue["by_channel"], "cancelled_total": revenue["undone"],
                              "cancelled_today": revenue_today["undone"]},
            "cancelled_today": revenue_today["undone_orders"],
            "currency": rt.settings.CURRENCY,
            **{outcome: c.get(name, 0) for outcome, name in ORDER_OUTCOMES.items() if outcome != "placed"},
        },
        "queues": depths,
        "failed_jobs": failed,
        "dead_letters": {"waiting": rt.deadletters.count(),
                         "inbound_total": c.get("dead_letters:inbound", 0),
                         "outbound_total": c.get("dead_letters:outbound", 0)},
        "nlu": {
            "calls": c.get("nlu_calls", 0), "fallbacks": sum(fallbacks.values()),
            "fallback_causes": dict(sorted(fallbacks.items())),
            "tokens_in": c.get("nlu_tokens_in", 0), "tokens_out": c.get("nlu_tokens_out", 0),
            "latency_ms_avg": round(c.get("nlu_latency_ms_sum", 0) / c["nlu_calls"], 1) if c.get("nlu_calls") else None,
            **model_calls(c, redis),
        },
        "latency_ms": latency(c),
        "workers_alive": workers_alive(redis, now),
        "handoffs_waiting": handoff.count(redis),
        "customers": {"registered": c.get("customers_registered", 0), "erased": c.get("customers_erased", 0)},
        "feedback": feedback(c),
        "outreach": outreach_figures(c),
        "verification": {"codes_sent": c.get("codes_sent", 0), "locks": c.get("verification_locks", 0),
                         "codes_refused": dict(sorted(by_prefix(c, "codes_refused").items()))},
        "counters": c,
    }


def feedback(c: dict[str, int]) -> dict:
    """Customers' ratings of delivered orders (1-5): how many, their average, and each score's count."""
    n = c.get("feedback_ratings", 0)
    return {"ratings": n, "average": round(c.get("feedback_rating_sum", 0) / n, 2) if n else None,
            "by_rating": {str(r): c.get(f"feedback_rating:{r}", 0) for r in range(1, 6)}}


def outreach_figures(c: dict[str, int]) -> dict:
    """Messages the shop sent first, by kind: said, found no longer true (silent), waiting for quiet
    hours to end; and customers' requests and opt-outs."""
    out: dict = {"sent": {}, "silent": {}, "deferred": {}}
    for name, n in c.items():
        head, _, kind = name.partition(":")
        if head in ("outreach_sent", "outreach_silent", "outreach_deferred"):
            out[head.removeprefix("outreach_")][kind] = n
    return {**{k: dict(sorted(v.items())) for k, v in out.items()}, "restock_requests": c.get("restock_requests", 0),
            "reminders_off": c.get("reminders_off", 0), "reminders_on": c.get("reminders_on", 0)}


def model_calls(c: dict[str, int], redis: Redis) -> dict:
    """What the language model cost: calls of each kind, per placed order, and what it refused."""
    calls = c.get("nlu_calls", 0) + c.get("translate_calls", 0)
    orders = c.get("orders_placed", 0)
    return {"model_calls": calls, "translate_calls": c.get("translate_calls", 0),
            "translated_in_reading": c.get("translate_in_reading", 0), "offline_only": c.get("nlu_offline_only", 0),
            "calls_per_order": round(calls / orders, 2) if orders else None,
            "config_errors": c.get("model_config_error", 0), "last_config_error": last_config_error(redis)}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
