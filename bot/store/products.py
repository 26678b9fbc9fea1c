"""Products: the catalog of record. Stock moves only through conditional updates (never below zero).

Stock changes for an order carry a marker (`holds`) naming the order, so a retried placement or
cancellation finds its own earlier change and never applies it twice.
"""
from __future__ import annotations

from ..catalog import Product
from .base import translate_errors

EPSILON = 1e-6  # weighed stock is a float (kg, l); compare with a little slack


@translate_errors
class Products:
    def __init__(self, db):
        self.col = db.products

    def ensure_indexes(self) -> None:
        self.col.create_index("sku", unique=True, name="sku_unique")

    def count(self) -> int:
        return self.col.count_documents({})

    def all(self) -> list[Product]:
        return [Product.from_doc(d) for d in self.col.find({}, {"_id": 0, "holds": 0}).sort("position", 1)]

    def get(self, sku: str) -> Product | None:
        doc = self.col.find_one({"sku": sku}, {"_id": 0, "holds": 0})
        return Product.from_doc(doc) if doc else None

    def by_skus(self, skus) -> dict[str, Product]:
        docs = self.col.find({"sku": {"$in": list(skus)}}, {"_id": 0, "holds": 0})
        return {d["sku"]: Product.from_doc(d) for d in docs}

    def upsert_many(self, products: list[Product]) -> tuple[int, int]:
        """Insert or update by sku (validated beforehand); returns (inserted, updated)."""
        inserted = updated = 0
        start = self.col.count_documents({})
        for i, p in enumerate(products):
            doc = p.to_doc()
            res = self.col.update_one({"sku": p.sku}, {"$set": doc, "$setOnInsert": {"position": start + i, "holds": []}},
                                      upsert=True)
            if res.upserted_id is not None:
                inserted += 1
            else:
                updated += 1
        return inserted, updated

    def delete_except(self, skus) -> int:
        """Remove every product whose sku is not in `skus` (a shop replacing its whole catalog)."""
        return self.col.delete_many({"sku": {"$nin": list(skus)}}).deleted_count

    def take(self, sku: str, quantity: float, marker: str) -> bool:
        """Remove `quantity` from stock for `marker`, once; False if there isn't enough."""
        res = self.col.update_one(
            {"sku": sku, "stock": {"$gte": quantity - EPSILON}, "holds": {"$ne": marker}},
            {"$inc": {"stock": -quantity}, "$push": {"holds": marker}},
        )
        return res.modified_count == 1 or self.col.count_documents({"sku": sku, "holds": marker}, limit=1) == 1

    def give_back(self, sku: str, quantity: float, marker: str) -> None:
        """Undo `take` for `marker` (only if it happened)."""
        self.col.update_one({"sku": sku, "holds": marker}, {"$inc": {"stock": quantity}, "$pull": {"holds": marker}})

    def put(self, sku: str, quantity: float, marker: str) -> None:
        """Add stock back for `marker`, once (a cancelled order's lines)."""
        self.col.update_one({"sku": sku, "holds": {"$ne": marker}}, {"$inc": {"stock": quantity}, "$push": {"holds": marker}})

    def release_marker(self, skus, marker: str) -> None:
        self.col.update_many({"sku": {"$in": list(skus)}}, {"$pull": {"holds": marker}})

    def stock(self, sku: str) -> float:
        doc = self.col.find_one({"sku": sku}, {"stock": 1})
        return doc["stock"] if doc else 0

    def update(self, sku: str, *, price_cents: int | None = None, stock: float | None = None) -> Product | None:
        fields = {k: v for k, v in (("price_cents", price_cents), ("stock", stock)) if v is not None}
        if fields:
            self.col.update_one({"sku": sku}, {"$set": fields})
        return self.get(sku)
