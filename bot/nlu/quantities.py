"""What an amount means for one product: its unit, pieces of a by-weight product, and the limits.

"6 bananas" for bananas sold by the kg is six pieces: with the catalog's piece weight
(`each_grams`) that is about 1.2 kg, and the count is kept so the reply can say so; without it the
amount is refused as "count" and the customer is asked for a weight. A quantity in a unit the
product does not convert to is refused rather than converted by assumption.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.matching import CatalogIndex
from bot.nlu.numbers import Amount
from bot.nlu.typed_words import keys_of, singular
from bot.nlu.types import Action, Refusal
from bot.shop.catalog import Product

# unit -> (dimension, size in the dimension's base); units outside this table only meet themselves
_MEASURES = {
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "lb": ("mass", 0.45359237), "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0), "ml": ("volume", 0.001), "cl": ("volume", 0.01),
    "each": ("count", 1.0), "dozen": ("count", 12.0),
}
PIECE_PRECISION = 2  # pieces become weight to 10 g: "about 1.02 kg", not "about 1.0200 kg"


@dataclass(frozen=True, slots=True)
class Measured:
    """An amount in the product's unit, why it cannot go in a cart (or None), and the pieces counted."""

    quantity: float | None
    problem: Refusal | None = None  # see types.Refusal
    count: float | None = None  # "6 bananas": 6, when a count became a weight


def to_product_unit(value: float, unit: str | None, product_unit: str) -> float | None:
    """`value` `unit` expressed in the product's unit, or None when they do not convert."""
    if unit is None or unit == product_unit:
        return value
    src, dst = _MEASURES.get(unit), _MEASURES.get(product_unit)
    if src and dst and src[0] == dst[0]:
        return value * src[1] / dst[1]
    if unit == "each" and product_unit not in _MEASURES:  # "2 pieces of bread" (loaf)
        return value
    return None


def quantity_problem(quantity: float, product: Product, max_quantity: float) -> Refusal | None:
    """Why a quantity cannot go in a cart, or None."""
    if quantity < 0:
        return "negative"
    if quantity == 0:
        return "zero"
    if quantity > max_quantity:
        return "too_large"
    if not product.weighed and abs(quantity - round(quantity)) > 1e-9:
        return "unit"
    if quantity < product.smallest - 1e-9:
        return "too_small"
    return None


def tidy(quantity: float) -> float | int:
    """Whole quantities as ints (3, not 3.0000001), others to the gram/millilitre."""
    q = round(quantity, 3)
    return int(q) if q.is_integer() else q


def _pieces(value: float, product: Product, action: Action, max_quantity: float) -> Measured:
    """A count of a by-weight product ("6 bananas") as its weight, or refused as "count"."""
    if not product.each_grams:
        return Measured(tidy(value), "count" if value > 0 else ("zero" if value == 0 else "negative"), tidy(value))
    if action == "set" and value == 0:
        return Measured(0, None, 0)
    weight = value * product.each_grams / 1000
    return Measured(tidy(round(weight, PIECE_PRECISION)), quantity_problem(weight, product, max_quantity), tidy(value))


def _sold_in(container: str | None, product: Product) -> bool:
    """A counted product whose name or description names the container ("1.5 quart tub"): one of
    those is one of the product. A carton of eggs sold per egg is not one egg."""
    if container is None or product.weighed or container in _MEASURES:
        return False
    words = re.findall(r"[a-z]+", f"{product.name} {product.description}".lower())
    return container in words


def measure(amount: Amount | None, product: Product, action: Action, max_quantity: float,
            counted: bool = False) -> Measured:
    """The amount in the product's unit and whether it can go in a cart.

    No amount means one of the product's unit, or for a removal the whole line (0). `counted`
    says the amount stood before the product's name with no unit ("6 bananas", "an apple"): a
    count of pieces, which for a by-weight product is not a number of kilograms.
    """
    if amount is None:
        return Measured(0) if action == "remove" else Measured(1)
    if amount.value is None:
        return Measured(None, "unit")  # "a few": we do not guess
    value, unit = amount.value, amount.unit
    if product.unit == "kg" and (unit in ("each", "dozen") or (unit is None and counted)):
        return _pieces(value * (12 if unit == "dozen" else 1), product, action, max_quantity)
    if product.unit == "dozen" and unit is None:  # "12 eggs" sold by the dozen
        if value % 12:
            return Measured(tidy(value), "unit")
        value, unit = value / 12, "dozen"
    quantity = to_product_unit(value, unit, product.unit)
    if quantity is None and _sold_in(unit, product):  # "a tub of ice cream": its description says tub
        quantity = value
    if quantity is None:
        return Measured(tidy(value), "unit")
    if action == "set" and quantity == 0:
        return Measured(0)
    return Measured(tidy(quantity), quantity_problem(quantity, product, max_quantity))


def in_unit(index: CatalogIndex, skus: list[str], text: str, amount: Amount, typed_unit: str) -> list[str]:
    """"4 tins of tomatoes": when the products the words name are not sold in the unit said, the
    one product holding those words that is sold so and says so in its name or aliases (Diced
    tomatoes: "tinned tomatoes", by the can) is meant. "2 litres of apples" stays apples."""
    said = {u for u in (amount.unit, singular(typed_unit)) if u is not None}

    def fits(p: Product) -> bool:
        return measure(amount, p, "add", float("inf")).problem != "unit"

    def says(p: Product) -> bool:
        words = keys_of(" ".join((p.name, *p.aliases)))
        return any(w == u or (len(u) >= 3 and w.startswith(u)) for w in words for u in said)

    if any(fits(p) for p in _products(index, skus)):
        return skus
    fitting = [p.sku for p in _products(index, index.containing(keys_of(text))) if fits(p) and says(p)]
    return fitting if len(fitting) == 1 else skus


def _products(index: CatalogIndex, skus: list[str]) -> list[Product]:
    return [p for p in map(index.catalog.get, skus) if p is not None]
