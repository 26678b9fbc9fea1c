"""The catalog as the conversation sees it: an in-memory snapshot of the products collection.

Prices and stock shown to customers come from here; placing an order re-reads them from the
store, so a stale snapshot can at worst show a price a few seconds old, never charge it.
Money formatting lives with the conversation (statemachine/money.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

UNITS = ("each", "kg", "g", "l", "ml", "pack", "dozen", "bunch", "loaf", "bag", "bottle", "jar", "can", "box")
WEIGHED_UNITS = ("kg", "l")  # units sold in fractions (0.5 kg); every other unit is counted
SMALLEST_WEIGHED = 0.1  # the least of a weighed product sold when the catalog does not say (100 g, 100 ml)


def number(value) -> int | float:
    """A stock or quantity as stored: whole numbers as ints, fractions kept (12.5 kg stays 12.5)."""
    value = float(value or 0)
    return int(value) if value.is_integer() else round(value, 3)


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    unit: str
    price_cents: int
    stock: float  # in the product's unit; fractions for weighed products (12.5 kg)
    aliases: tuple[str, ...] = ()
    category: str = ""
    description: str = ""
    each_grams: float | None = None  # a by-weight product's typical piece ("6 bananas" is about 1.2 kg)
    min_quantity: float | None = None  # the least sold at once; None: 0.1 kg/l, or 1 of a counted unit
    available: bool = True  # an operator can take a product off sale without touching its stock

    @property
    def weighed(self) -> bool:
        return self.unit in WEIGHED_UNITS

    @property
    def smallest(self) -> float:
        """The smallest quantity one cart line may hold."""
        if self.min_quantity:
            return self.min_quantity
        return SMALLEST_WEIGHED if self.weighed else 1

    def to_doc(self) -> dict:
        doc = asdict(self)
        doc["aliases"] = list(self.aliases)
        return doc

    @classmethod
    def from_doc(cls, doc: dict) -> Product:
        return cls(
            sku=doc["sku"], name=doc["name"], unit=doc["unit"], price_cents=int(doc["price_cents"]),
            stock=number(doc.get("stock", 0)), aliases=tuple(doc.get("aliases") or ()),
            category=doc.get("category", ""), description=doc.get("description", ""),
            each_grams=doc.get("each_grams") or None, min_quantity=doc.get("min_quantity") or None,
            available=doc.get("available", True) is not False,
        )


@dataclass
class Catalog:
    """Products by sku, in catalog order, as the conversation sells them: a product an operator took
    off sale reads as out of stock (`records()` keeps the stored figures, for operators).
    Built from the store; cheap to rebuild."""

    products: list[Product] = field(default_factory=list)

    def __post_init__(self):
        self._selling = [p if p.available else replace(p, stock=0) for p in self.products]
        self._by_sku = {p.sku: p for p in self._selling}

    def get(self, sku: str) -> Product | None:
        return self._by_sku.get(sku)

    def records(self) -> list[Product]:
        """The products as stored (real stock and availability), in catalog order."""
        return list(self.products)

    def __contains__(self, sku: str) -> bool:
        return sku in self._by_sku

    def __iter__(self):
        return iter(self._selling)

    def __len__(self) -> int:
        return len(self.products)
