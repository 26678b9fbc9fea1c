"""The benchmark's side measurements: parse time on a 10,000-product catalog, Redis bytes per
conversation (read from the Orderline run's own Redis)."""
from __future__ import annotations

import random
import statistics
import time

from bot.common import redis_keys
from bot.nlu.offline import OfflineParser
from bot.nlu.types import NluContext
from bot.shop.catalog import Catalog, Product
from bot.shop.catalog_import import load_sample_catalog

ADJECTIVES = ("organic", "smoked", "sweet", "spicy", "fresh", "frozen", "wild", "roasted", "sliced", "mini",
              "large", "red", "green", "golden", "dark", "light", "whole", "crunchy", "creamy", "classic")
NOUNS = ("crackers", "cookies", "salsa", "hummus", "granola", "noodles", "dumplings", "sausages", "olives",
         "pickles", "muffins", "biscuits", "chips", "soup", "curry", "dressing", "mustard", "relish", "wafers",
         "pretzels", "lentils", "quinoa", "couscous", "tofu", "tempeh", "kimchi", "jam", "syrup", "vinegar", "nuts")
BRANDS = ("Acme", "Northfield", "Sunvale", "Blue Hill", "Oakridge", "Maple & Co", "Riverbend", "Goldleaf",
          "Harbor", "Summit", "Meadow", "Pinecrest")
LINES = ("2 kg of apples and a dozen eggs", "remove the apples", "3 bananas", "a loaf of white bread",
         "1 l of whole milk", "chiken breast", "no bread", "change apples to 3", "some kiwis", "done")


def generated_catalog(size: int = 10_000, seed: int = 7) -> Catalog:
    """The sample catalog plus generated products with plausible names, up to `size`."""
    rng = random.Random(seed)
    products = list(load_sample_catalog())
    n = 0
    while len(products) < size:
        n += 1
        name = f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        products.append(Product(sku=f"GEN-{n:05d}", name=f"{name} #{n}", unit="pack", price_cents=rng.randint(99, 2999),
                                stock=100, aliases=(), category="Pantry"))
    return Catalog(products)


def parse_times(size: int = 10_000, rounds: int = 30) -> dict:
    catalog = generated_catalog(size)
    t = time.perf_counter()
    parser = OfflineParser(catalog)
    build_ms = (time.perf_counter() - t) * 1000
    ctx = NluContext(state="order")
    samples = []
    for _ in range(rounds):
        for line in LINES:
            t = time.perf_counter()
            parser.understand(line, ctx)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"products": len(catalog), "index_build_ms": round(build_ms), "parse_p50_ms": round(statistics.median(samples), 3),
            "parse_p95_ms": round(samples[int(len(samples) * 0.95)], 3), "parse_max_ms": round(samples[-1], 3)}


def redis_bytes(r) -> dict:
    """Bytes Redis holds per conversation (its state) and per message (its dedupe key, kept 48 h)."""
    conv_keys = list(r.scan_iter(match=redis_keys.P + "{c.*}:state", count=1000))
    conv_bytes = [r.memory_usage(k) or 0 for k in conv_keys[:2000]]
    dedupe = list(r.scan_iter(match=redis_keys.P + "dedupe:*", count=1000))[:2000]
    dedupe_bytes = [r.memory_usage(k) or 0 for k in dedupe]
    return {"conversations": len(conv_keys),
            "bytes_per_conversation": round(statistics.mean(conv_bytes)) if conv_bytes else 0,
            "bytes_per_message_dedupe_key": round(statistics.mean(dedupe_bytes)) if dedupe_bytes else 0,
            "used_memory": r.info("memory")["used_memory"]}
