"""Answering a customer's question from what the shop knows: its catalog and its FAQ.

Understanding says what was asked (`nlu.asked`: a price, stock, a category, the catalog's
categories, a product's description) or carries a quoted FAQ or model answer (`nlu.answer`);
the sentences are made here from the catalog of the moment, prices in integer cents. A question
nothing answers says so and offers a person.
"""
from __future__ import annotations

from typing import Any

from statemachine import prompts
from statemachine.inputs import Catalog, Product
from statemachine.model import Conversation, Turn
from statemachine.money import price_per_unit

MAX_LISTED = 12  # products named in one answer; the rest are counted


def reply(conv: Conversation, turn: Turn) -> None:
    conv.say(answer_text(turn))


def answer_text(turn: Turn) -> str:
    nlu = turn.nlu
    asked = nlu.asked or {}
    text = _from_catalog(asked, turn.deps.catalog, turn.limits.currency) if asked else None
    return text or nlu.answer or prompts.CANT_ANSWER


def _from_catalog(asked: dict[str, Any], catalog: Catalog, currency: str) -> str | None:
    kind = asked.get("kind")
    products = [p for p in (catalog.get(s) for s in asked.get("skus", ())) if p is not None]
    if kind == "categories" and asked.get("categories"):
        return prompts.categories(list(asked["categories"]))
    if kind == "missing":
        names = [p.name for p in products[:3]]
        return prompts.unknown_product(asked.get("text", ""), names)
    if not products:
        return None
    if kind == "about" and len(products) == 1 and products[0].description:
        p = products[0]
        return prompts.about(f"{p.name} ({price_per_unit(p, currency)})", p.description)
    if kind == "stock" and len(products) == 1:
        p = products[0]
        return prompts.in_stock(p.name, price_per_unit(p, currency)) if p.stock > 0 else prompts.out_of_stock(p.name)
    if len(products) == 1:
        return _price(products[0], currency)
    title = prompts.category_title(asked["title"]) if asked.get("title") else prompts.PRICES
    lines = [_price(p, currency).rstrip(".") for p in products[:MAX_LISTED]]
    return prompts.product_list(title, lines, max(0, len(products) - MAX_LISTED))


def _price(product: Product, currency: str) -> str:
    note = prompts.OUT_OF_STOCK_NOTE if product.stock <= 0 else ""
    return prompts.price_of(product.name, price_per_unit(product, currency), note)
