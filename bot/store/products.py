"""Products: the catalog of record. Stock moves only through conditional updates (never below zero).

Stock changes for an order are keyed moves (moves.py): each leaves an entry naming its key in the
product's own document, so a retried or racing placement or cancellation never applies twice.
"""
from __future__ import annotations

from collections.abc import Iterable

from bot.shop.catalog import Product
from bot.store.moves import Moves
from bot.store.repository import Db, translate_errors

EPSILON = 1e-6  # weighed stock is a float (kg, l); compare with a little slack
# bookkeeping, never part of a Product ("holds": what stock markers were before moves existed)
HIDDEN = {"_id": 0, "moves": 0, "holds": 0, "fence": 0, "fence_put": 0, "compacted_at": 0}


@translate_errors
class Products:
    def __init__(self, db: Db) -> None:
        self.col = db.products
        self.moves = Moves(self.col)

    def ensure_indexes(self) -> None:
        self.col.create_index("sku", unique=True, name="sku_unique")

    def count(self) -> int:
        return self.col.count_documents({})

    def all(self) -> list[Product]:
        return [Product.from_doc(d) for d in self.col.find({}, HIDDEN).sort("position", 1)]

    def get(self, sku: str) -> Product | None:
        doc = self.col.find_one({"sku": sku}, HIDDEN)
        return Product.from_doc(doc) if doc else None

    def by_skus(self, skus: Iterable[str]) -> dict[str, Product]:
        docs = self.col.find({"sku": {"$in": list(skus)}}, HIDDEN)
        return {d["sku"]: Product.from_doc(d) for d in docs}

    def upsert_many(self, products: list[Product]) -> tuple[int, int]:
        """Insert or update by sku (validated beforehand); returns (inserted, updated)."""
        inserted = updated = 0
        start = self.col.count_documents({})
        for i, p in enumerate(products):
            doc = p.to_doc()
            available = doc.pop("available")  # an import never puts back on sale what an operator took off
            res = self.col.update_one({"sku": p.sku}, {"$set": doc, "$setOnInsert": {
                "position": start + i, "moves": [], "available": available}}, upsert=True)
            if res.upserted_id is not None:
                inserted += 1
            else:
                updated += 1
        return inserted, updated

    def delete_except(self, skus: Iterable[str]) -> int:
        """Remove every product whose sku is not in `skus` (a shop replacing its whole catalog)."""
        return self.col.delete_many({"sku": {"$nin": list(skus)}}).deleted_count

    def take(self, sku: str, quantity: float, key: str, at: float) -> str:
        """Remove `quantity` from stock for `key`, once: moves.TAKEN, SHORT, CLOSED, FENCED or MISSING.
        A product an operator took off sale is SHORT, whatever its stock."""
        return self.moves.take({"sku": sku}, key, at, {"stock": -quantity},
                               {"stock": {"$gte": quantity - EPSILON}, "available": {"$ne": False}})

    def keep(self, skus: Iterable[str], key: str) -> None:
        """The order `key` was placed: its stock stays taken."""
        self.moves.keep({"sku": {"$in": list(skus)}}, key)

    def give_back(self, sku: str, quantity: float, key: str, at: float) -> None:
        """The order `key` failed: undo its take if it happened, and make sure none follows."""
        self.moves.give_back({"sku": sku}, key, at, {"stock": -quantity})

    def put(self, sku: str, quantity: float, key: str, at: float) -> bool:
        """Add stock back for `key`, once (a cancelled or expired order's lines)."""
        return self.moves.put({"sku": sku}, key, at, {"stock": quantity})

    def compact(self, skus: Iterable[str], now: float) -> None:
        self.moves.compact("sku", skus, now)

    def stock(self, sku: str) -> float:
        """What can be sold now (0 for a product off sale)."""
        doc = self.col.find_one({"sku": sku}, {"stock": 1, "available": 1})
        return doc["stock"] if doc and doc.get("available") is not False else 0

    def update(self, sku: str, *, price_cents: int | None = None, stock: float | None = None,
               available: bool | None = None) -> Product | None:
        fields = {k: v for k, v in (("price_cents", price_cents), ("stock", stock), ("available", available))
                  if v is not None}
        if fields:
            self.col.update_one({"sku": sku}, {"$set": fields})
        return self.get(sku)
