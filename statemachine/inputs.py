"""What a turn reads from outside the conversation, as the conversation reads it.

Understanding's result (bot/nlu/types.py's `NluResult`) and the catalog (bot/shop/catalog.py's
`Catalog` of `Product`s) are made by other packages, which statemachine may not import. These
protocols name exactly the attributes the conversation reads, read-only, so mypy checks every use
here and any object with those attributes (the real ones, a test's fakes) will do.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class Product(Protocol):
    """A catalog product: prices in integer cents, stock and quantities in the product's unit."""

    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...  # "each", "kg", "l", "pack", ...
    @property
    def price_cents(self) -> int: ...
    @property
    def stock(self) -> float: ...
    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def category(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def weighed(self) -> bool: ...  # sold by weight or volume: fractions allowed
    @property
    def smallest(self) -> float: ...  # the least one cart line may hold


class Catalog(Protocol):
    """The catalog of the moment: a product by sku, or every product."""

    def get(self, sku: str) -> Product | None: ...
    def __iter__(self) -> Iterator[Product]: ...


class Item(Protocol):
    """A product the customer asked for, in the product's own unit."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def action(self) -> str: ...  # add | remove | set
    @property
    def count(self) -> float | None: ...  # pieces counted of a by-weight product


class Unknown(Protocol):
    """Words that looked like a product and matched none; suggestions are close skus."""

    @property
    def text(self) -> str: ...
    @property
    def suggestions(self) -> Sequence[str]: ...


class Ambiguous(Protocol):
    """A name matching several products: the customer must pick one."""

    @property
    def text(self) -> str: ...
    @property
    def candidates(self) -> Sequence[str]: ...
    @property
    def quantity(self) -> float: ...
    @property
    def action(self) -> str: ...


class Invalid(Protocol):
    """A product request refused before the cart, and why (zero, negative, too_large, too_small, unit, count)."""

    @property
    def text(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def quantity(self) -> float | None: ...


class Reading(Protocol):
    """One customer line, understood: its intent and what it named."""

    @property
    def intent(self) -> str: ...
    @property
    def items(self) -> Sequence[Item]: ...
    @property
    def unknown(self) -> Sequence[Unknown]: ...
    @property
    def ambiguous(self) -> Sequence[Ambiguous]: ...
    @property
    def invalid(self) -> Sequence[Invalid]: ...
    @property
    def choice(self) -> int | None: ...  # a bare number picking from a numbered list
    @property
    def phone(self) -> str | None: ...  # as typed
    @property
    def code(self) -> str | None: ...  # a one-time code
    @property
    def answer(self) -> str | None: ...  # a quoted FAQ or model answer to a question
    @property
    def asked(self) -> dict[str, Any] | None: ...  # what a question asked about ({"kind", "skus", ...})
    @property
    def name(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def more(self) -> int: ...  # parts of a long line not read for items
