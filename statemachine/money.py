"""Money and quantities as customers read them. Integer cents in, text out; no floats in totals."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from statemachine.inputs import Product

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "AUD": "A$", "CAD": "C$"}


def line_total_cents(quantity: float, price_cents: int) -> int:
    """Money for one cart line, rounded half-up to the cent (0.5 kg x 299 = 150)."""
    return int((Decimal(str(quantity)) * int(price_cents)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(cents: int, currency: str = "USD") -> str:
    symbol = _SYMBOLS.get(currency)
    amount = f"{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def format_round(cents: int, currency: str = "USD") -> str:
    """'$20' for whole amounts, '$4.99' otherwise: how a shop states a threshold."""
    text = format_money(cents, currency)
    return text.replace(".00", "", 1) if cents % 100 == 0 else text


# counted units read in the plural past one ("3 cans"); measures (kg, l, g, ml) and "dozen" never change
PLURAL_UNITS = {"pack": "packs", "bag": "bags", "box": "boxes", "jar": "jars", "bottle": "bottles", "can": "cans",
                "loaf": "loaves", "bunch": "bunches"}


def format_number(quantity: float) -> str:
    """3, 0.5, 1.25: whole numbers without a decimal point, fractions to the gram."""
    q = int(quantity) if float(quantity).is_integer() else round(float(quantity), 3)
    return f"{q}"


def format_quantity(quantity: float, unit: str) -> str:
    """'2 kg', '0.5 l', '3 cans', '1 can', '3' (for 'each'): the amount as a shop label would print it."""
    q = format_number(quantity)
    if unit == "each":
        return q
    return f"{q} {PLURAL_UNITS.get(unit, unit) if float(quantity) != 1 else unit}"


def price_per_unit(product: Product, currency: str = "USD") -> str:
    """'$4.39/kg', '$0.35 each': a catalog price as a shelf label shows it."""
    per = " each" if product.unit == "each" else f"/{product.unit}"
    return f"{format_money(product.price_cents, currency)}{per}"


def price_label(product: Product, currency: str = "USD") -> str:
    """'Apples (Gala) ($4.39/kg)': a product with its catalog price per unit, for a numbered list."""
    per = "" if product.unit == "each" else f"/{product.unit}"
    return f"{product.name} ({format_money(product.price_cents, currency)}{per})"
