"""'The same as last time': the cart filled from the customer's last order, at today's prices and
stock, saying what changed (a new price, fewer left, out of stock, no longer sold)."""
from __future__ import annotations

import re

from statemachine import prompts
from statemachine.cart import quantity_of, set_quantity
from statemachine.model import Conversation, Turn
from statemachine.money import format_money, format_quantity
from statemachine.shopping import show_cart

ASKED = re.compile(r"\b(same (as|thing as|order as) (last time|before|last|usual)|same again|the usual|my usual"
                   r"|repeat (my |the )?(last|previous) order|re-?order|order (the same )?again"
                   r"|(last|previous) order again)\b")


def asked(text: str) -> bool:
    return bool(ASKED.search(" ".join(text.lower().split())))


def fill(conv: Conversation, turn: Turn) -> None:
    last = turn.deps.last_order(conv.phone) if conv.phone else None
    if conv.state != "order":
        conv.shop(prompt=False)
    if not last:
        return conv.say(prompts.NOTHING_TO_REORDER)
    currency, catalog, limit = turn.limits.currency, turn.deps.catalog, turn.limits.max_quantity
    changes, added = [], 0
    for line in last["lines"]:
        product = catalog.get(line["sku"])
        if product is None:
            changes.append(prompts.reorder_gone(line.get("name", line["sku"])))
            continue
        if product.price_cents != line.get("price_cents", product.price_cents):
            changes.append(prompts.price_changed(product.name, format_money(line["price_cents"], currency),
                                                 format_money(product.price_cents, currency)))
        have = quantity_of(conv.cart, product.sku)
        room = min(product.stock, limit) - have
        room = room if product.weighed else int(room)
        want = min(line["quantity"], room)
        if want <= 0:
            changes.append(prompts.reorder_out(product.name))
            continue
        if want < line["quantity"]:
            changes.append(prompts.reorder_less(product.name, format_quantity(want, product.unit)))
        set_quantity(conv.cart, product.sku, have + want)
        added += 1
    if not added:
        lead = [prompts.reorder_changes(changes)] if changes else []
        return conv.say("\n".join(lead + [prompts.REORDER_NOTHING_LEFT]))
    lead = [prompts.reordered(last["number"])] + ([prompts.reorder_changes(changes)] if changes else [])
    show_cart(conv, turn, lead)
