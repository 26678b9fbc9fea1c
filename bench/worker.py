"""Orderline's bench worker: the production worker (`run_worker`: SimpleWorker, real step, real
store, real outbound delivery) whose channel senders only count what is handed to them, with the
reply's latency (customer message accepted -> reply handed to the sender)."""
from __future__ import annotations

import os
import sys
import time

from bot.common.logs import configure
from bot.config import load_settings
from bot.runtime import build
from workers.run import run_worker

DONE = "bench:done"


class CountingSender:
    def __init__(self, redis, channel):
        self.redis, self.channel = redis, channel

    def send(self, message, part_sent=None) -> None:
        self.redis.rpush(DONE, f"{(time.time() - message.received_at) * 1000:.3f}")


def local_store(settings):
    """Diagnostic only (BENCH_LOCAL_STORE=1): this process's own mongomock, seeded like the shared
    one. Not a correct deployment (workers don't share it); it measures the pipeline without the
    MongoDB stand-in's cost."""
    import mongomock

    from bench import generate
    from bot.shop.catalog_import import load_sample_catalog
    from bot.store import Store

    store = Store(mongomock.MongoClient()[settings.MONGO_DB])
    store.ensure_indexes()
    products = load_sample_catalog()
    store.products.upsert_many(products)
    for p in products:
        store.products.update(p.sku, stock=10_000_000)
    for i in range(int(os.environ["BENCH_CUSTOMERS"])):
        store.customers.save(generate.customer_phone(i), f"Customer {i}", f"{i} Bench Street, Springfield")
    return store


def main() -> int:
    settings = load_settings()
    configure("WARNING")
    store = local_store(settings) if os.environ.get("BENCH_LOCAL_STORE") == "1" else None
    rt = build(settings, store=store, load_sample=False)
    rt.senders = {ch: CountingSender(rt.redis, ch) for ch in ("sms", "whatsapp", "telegram")}
    return 0 if run_worker(rt, with_scheduler=False) else 1


if __name__ == "__main__":
    sys.exit(main())
