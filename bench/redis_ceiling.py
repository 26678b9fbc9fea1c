"""`make measure-redis`: what waiting for a replica costs an accepted message, and how many
messages per second one Redis can accept on this machine (docs/deploy.md, "How to scale").

1. Latency: the real `Ingress.accept` (the accept script, then the kick) from one client on
   loopback, against a primary with the shipped persistence (AOF, fsync every second) and one
   replica; N messages with REDIS_WAIT_REPLICAS=0, then N with 1.
2. Ceiling of the accept step: the accept script from C client processes for S seconds. Redis runs
   commands on one thread, so its main thread's CPU time (INFO cpu) per message is what bounds
   it: 1 / that is the most one Redis core accepts, whatever the clients cost. The whole message
   path (claim, commit, delivery, RQ) costs Redis more: `make bench` records that figure for the
   Orderline run (bench/run.py, "redis_cpu_us_per_message").
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import percentile  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

SHIPPED = ("--appendonly", "yes", "--appendfsync", "everysec", "--repl-diskless-sync-delay", "0")


def main_thread_cpu(r) -> float:
    info = r.info("cpu")
    return info["used_cpu_sys_main_thread"] + info["used_cpu_user_main_thread"]


def message(i: int, customers: int):
    from channels.base import InboundMessage

    phone = f"+1415{5550000 + i % customers:07d}"
    return InboundMessage(channel="whatsapp", message_id="SM" + uuid.uuid4().hex, address=phone,
                          text="2 kg of apples and a dozen eggs", contact=phone)


def ingress(url: str, replicas: int, timeout_ms: int):
    import mongomock

    from bot.config import load_settings
    from bot.runtime import build
    from bot.store import Store

    settings = load_settings({"REDIS_URL": url, "MONGO_URI": "mongodb://unused", "API_TOKEN": "m" * 20,
                              "OPERATOR_TOKEN": "o" * 20, "REDIS_WAIT_REPLICAS": str(replicas),
                              "REDIS_WAIT_TIMEOUT_MS": str(timeout_ms), "LOG_LEVEL": "WARNING"})
    store = Store(mongomock.MongoClient()["measure"])
    return build(settings, redis=redis.Redis.from_url(url), store=store, senders={}, load_sample=False).ingress


def latency(url: str, replicas: int, n: int, customers: int) -> dict:
    door = ingress(url, replicas, 500)
    for i in range(200):  # warm up: scripts loaded, connections open
        door.accept(message(i, customers))
    times = []
    for i in range(n):
        m = message(i, customers)
        t = time.perf_counter()
        door.accept(m)
        times.append((time.perf_counter() - t) * 1e6)
    return {"replicas_waited_for": replicas, "messages": n, "p50_us": round(percentile(times, 50)),
            "p95_us": round(percentile(times, 95)), "p99_us": round(percentile(times, 99))}


def _hammer(url: str, seconds: float, customers: int, out) -> None:
    from bot.mailbox import Mailboxes, encode

    boxes = Mailboxes(redis.Redis.from_url(url), lease_ms=30_000)
    count, deadline, i = 0, time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        m = message(i, customers)
        boxes.accept(m.channel, m.message_id, m.identity, encode(m.to_dict()), 172_800, address=m.address)
        count, i = count + 1, i + 1
    out.put(count)


def ceiling(url: str, clients: int, seconds: float, customers: int) -> dict:
    r = redis.Redis.from_url(url)
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_hammer, args=(url, seconds, customers, out)) for _ in range(clients)]
    cpu0, t0 = main_thread_cpu(r), time.monotonic()
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    cpu, wall = main_thread_cpu(r) - cpu0, time.monotonic() - t0
    return {"clients": clients, "seconds": round(wall, 1), "accepted": total, "accepted_per_s": round(total / wall),
            "redis_main_thread_busy": round(cpu / wall, 2), "redis_cpu_us_per_accept": round(cpu / total * 1e6, 1),
            "accepts_per_s_per_redis_core": round(total / cpu)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.redis_ceiling")
    p.add_argument("--messages", type=int, default=5000, help="messages per latency pass")
    p.add_argument("--clients", type=int, default=3, help="client processes in the ceiling pass")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--customers", type=int, default=1000)
    args = p.parse_args(argv)
    primary = RedisServer(extra_args=SHIPPED).start()
    replica = RedisServer(extra_args=(*SHIPPED, "--replicaof", "127.0.0.1", str(primary.port))).start()
    try:
        deadline = time.monotonic() + 10
        while redis.Redis(port=replica.port).info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not sync")
            time.sleep(0.05)
        results = {"latency": [latency(primary.url, n, args.messages, args.customers) for n in (0, 1, 0, 1)]}
        redis.Redis.from_url(primary.url).flushall()
        results["ceiling"] = ceiling(primary.url, args.clients, args.seconds, args.customers)
    finally:
        replica.stop()
        primary.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
