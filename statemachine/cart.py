"""The cart: lines of (sku, quantity), priced from the catalog every time it is shown.

A cart never stores a price, so a summary, the confirmation and the placed order all agree
with the catalog of the moment.
"""
from __future__ import annotations

from dataclasses import dataclass

from statemachine.inputs import Catalog
from statemachine.model import CartLine
from statemachine.money import format_money, format_quantity, line_total_cents


@dataclass
class Line:
    sku: str
    name: str
    quantity: float
    unit: str
    price_cents: int

    @property
    def total_cents(self) -> int:
        return line_total_cents(self.quantity, self.price_cents)

    def describe(self, currency: str) -> str:
        return f"{format_quantity(self.quantity, self.unit)} × {self.name} — {format_money(self.total_cents, currency)}"


def _norm(q: float) -> float:
    q = round(float(q), 3)
    return int(q) if q.is_integer() else q


def quantity_of(cart: list[CartLine], sku: str) -> float:
    return next((line["quantity"] for line in cart if line["sku"] == sku), 0)


def set_quantity(cart: list[CartLine], sku: str, quantity: float) -> None:
    """Put `quantity` of sku in the cart (0 removes the line); keeps the order lines were added in."""
    quantity = _norm(quantity)
    for line in cart:
        if line["sku"] == sku:
            if quantity <= 0:
                cart.remove(line)
            else:
                line["quantity"] = quantity
            return
    if quantity > 0:
        cart.append({"sku": sku, "quantity": quantity})


def priced_lines(cart: list[CartLine], catalog: Catalog) -> tuple[list[Line], list[str]]:
    """The cart's lines with catalog prices, and skus that left the catalog (dropped from the cart)."""
    lines: list[Line] = []
    gone: list[str] = []
    for entry in cart:
        product = catalog.get(entry["sku"])
        if product is None:
            gone.append(entry["sku"])
            continue
        lines.append(Line(product.sku, product.name, entry["quantity"], product.unit, product.price_cents))
    return lines, gone


def total_cents(lines: list[Line]) -> int:
    return sum(line.total_cents for line in lines)


def summary(lines: list[Line], currency: str) -> str:
    body = "\n".join(f"• {line.describe(currency)}" for line in lines)
    return f"{body}\nTotal: {format_money(total_cents(lines), currency)}"
