"""Checkout: from 'done' to 'Shall I place it?', applying the shop's rules (statemachine/rules.py).

`proceed` walks a fixed list of checks and stops at the first that needs the customer:

    closed (and the shop refuses)  -> back to the cart, saying when it opens
    an item ran out                -> `substitute`: the closest in-stock alternative, or without it
    below the minimum              -> back to the cart, saying how much is missing
    address outside the areas      -> `address`: a delivery address in the areas (named)
    no (still valid) slot chosen   -> `slot`: the next available slots (slots.py)
    no payment method chosen       -> `payment` (payment.py)
    nothing missing                -> `confirm`: items, delivery fee, total, slot, payment

Every answer in those states calls `proceed` again, so the checks are re-run against the catalog
and the rules of the moment; `ready` runs them once more when the customer says yes. Choices
live in `conv.chosen` ("slot", "payment"), which survives the moves between states.
"""
from __future__ import annotations

from typing import Any

from statemachine import payment, prompts, slots
from statemachine.cart import priced_lines, set_quantity
from statemachine.effects import SaveAddress
from statemachine.flow import go, say
from statemachine.inputs import Catalog, Product
from statemachine.model import CartLine, Conversation, Turn
from statemachine.money import format_money, format_quantity, format_round
from statemachine.rules import area_of, charges, is_open, local, next_opening, slot_when, when
from statemachine.shopinfo import areas_text


def proceed(conv: Conversation, turn: Turn, notes: list[str] | None = None) -> None:
    """Ask the first thing checkout still needs, or show the confirmation."""
    notes = list(notes or [])
    if not conv.cart:
        go(conv, "order")
        return say(conv, notes + [prompts.CART_EMPTY])
    if not _first_missing(conv, turn, notes):
        go(conv, "confirm")
        say_confirmation(conv, turn, notes)


def choose_slot(conv: Conversation, turn: Turn) -> None:
    """The `slot` state's answer: once a slot is chosen, on to what checkout needs next."""
    if slots.choose(conv, turn):
        proceed(conv, turn)


def choose_payment(conv: Conversation, turn: Turn) -> None:
    """The `payment` state's answer: once a method is chosen, on to what checkout needs next."""
    if payment.choose(conv, turn):
        proceed(conv, turn)


def ready(conv: Conversation, turn: Turn) -> bool:
    """At 'yes': True if nothing changed or is missing; otherwise it has said what, and asked."""
    notes: list[str] = []
    if _first_missing(conv, turn, notes):
        return False
    if notes:  # the cart changed under the customer (stock): confirm again
        say_confirmation(conv, turn, notes)
        return False
    return True


def _first_missing(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    for check in (_closed, _stock, _minimum, _area, slots.check, payment.check):
        if check(conv, turn, notes):
            return True
    return False


# -- the checks ---------------------------------------------------------------------------------

def _closed(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    rules = turn.limits.shop
    now = local(rules, turn.now)
    if rules.outside_hours != "refuse" or is_open(rules.hours, now):
        return False
    opening = next_opening(rules.hours, now)
    go(conv, "order")
    say(conv, notes + [prompts.closed_refuse(when(opening, now) if opening else "later")])
    return True


def _stock(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    """Lines that ran out: fewer if some are left, else an alternative (or without it)."""
    catalog, short = turn.deps.catalog, conv.chosen.get("short", {})
    for entry in list(conv.cart):
        product = catalog.get(entry["sku"])
        if product is None:
            conv.cart.remove(entry)
            notes.append(prompts.dropped_from_catalog(1))
            continue
        available = min(product.stock, short.get(product.sku, product.stock))
        if available >= entry["quantity"]:
            continue
        short.pop(product.sku, None)
        keep = available if product.weighed else int(available)
        if keep > 0:
            set_quantity(conv.cart, product.sku, keep)
            notes.append(prompts.only_left_now(product.name, format_quantity(keep, product.unit)))
            continue
        if _offer_alternative(conv, turn, product, entry["quantity"], notes):
            return True
    return False


def _offer_alternative(conv: Conversation, turn: Turn, product: Product, quantity: float, notes: list[str]) -> bool:
    alternative = closest(turn.deps.catalog, product, quantity, conv.cart)
    if alternative is None:
        set_quantity(conv.cart, product.sku, 0)
        notes.append(prompts.ran_out_nothing_similar(product.name))
        return False
    go(conv, "substitute")
    conv.pending = {"sku": product.sku, "alternative": alternative.sku, "quantity": quantity}
    price = format_money(alternative.price_cents, turn.limits.currency)
    per = "" if alternative.unit == "each" else f"/{alternative.unit}"
    options = (prompts.take_instead(alternative.name), prompts.WITHOUT_IT)
    say(conv, notes + [prompts.ran_out_offer(product.name, f"{alternative.name} ({price}{per})"),
                       prompts.numbered(options)], buttons=options, options=options)
    return True


def closest(catalog: Catalog, product: Product, quantity: float, cart: list[CartLine]) -> Product | None:
    """The in-stock product most like `product`: same category, sharing a word of its name if any
    does, then the nearest price; never one already in the cart."""
    in_cart = {e["sku"] for e in cart}
    words = _words(product.name)
    candidates = [p for p in catalog if p.category == product.category and p.sku != product.sku
                  and p.sku not in in_cart and p.stock >= quantity and p.unit == product.unit]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-len(words & _words(p.name)), abs(p.price_cents - product.price_cents),
                                          p.sku))


def _words(name: str) -> set[str]:
    return {w for w in "".join(c.lower() if c.isalnum() else " " for c in name).split() if len(w) > 2}


def _minimum(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    rules, currency = turn.limits.shop, turn.limits.currency
    lines, _ = priced_lines(conv.cart, turn.deps.catalog)
    items = sum(line.total_cents for line in lines)
    missing = charges(rules, items).missing_cents
    if not missing:
        return False
    go(conv, "order")
    say(conv, notes + [prompts.below_minimum(format_money(items, currency), format_money(missing, currency),
                                             format_round(rules.minimum_order_cents, currency))])
    return True


def _area(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    rules = turn.limits.shop
    if area_of(rules, conv.address) is not None:
        return False
    go(conv, "address")
    say(conv, notes + [prompts.outside_area(areas_text(rules.areas))])
    return True


# -- the address state ----------------------------------------------------------------------------

def address(conv: Conversation, turn: Turn) -> None:
    """A delivery address in the shop's areas, in place of one outside them."""
    text = " ".join(turn.text.split())
    rules = turn.limits.shop
    if len(text) < 6 or len(text) > 200 or not any(ch.isalpha() for ch in text):
        return conv.say(prompts.BAD_ADDRESS)
    if area_of(rules, text) is None:
        return conv.say(prompts.outside_area(areas_text(rules.areas)))
    conv.address = text
    conv.do(SaveAddress(conv.customer_phone(), text))
    proceed(conv, turn, [prompts.new_address(text)])


# -- the substitute state ---------------------------------------------------------------------------

def substitute(conv: Conversation, turn: Turn) -> None:
    """'1' / yes: the alternative instead; '2' / no / without: leave the item out."""
    pending, nlu = conv.pending, turn.nlu
    catalog = turn.deps.catalog
    gone, alternative = catalog.get(pending["sku"]), catalog.get(pending["alternative"])
    take = nlu.intent == "yes" or (nlu.intent == "choice" and nlu.choice == 1) or \
        (alternative is not None and any(i.sku == alternative.sku for i in nlu.items))
    skip = nlu.intent == "no" or (nlu.intent == "choice" and nlu.choice == 2) or "without" in turn.text.lower()
    if not (take or skip):
        return conv.say(prompts.SUBSTITUTE_WHICH, buttons=(prompts.take_instead(alternative.name) if alternative
                                                           else prompts.WITHOUT_IT, prompts.WITHOUT_IT))
    name = gone.name if gone else pending["sku"]
    set_quantity(conv.cart, pending["sku"], 0)
    quantity = min(pending["quantity"], alternative.stock) if take and alternative is not None else 0
    if alternative is not None and quantity > 0:  # (it may have run out too meanwhile: then without)
        set_quantity(conv.cart, alternative.sku, quantity)
        note = prompts.substituted(f"{format_quantity(quantity, alternative.unit)} × {alternative.name}")
    else:
        note = prompts.going_on_without(name)
    proceed(conv, turn, [note])


# -- the confirmation ---------------------------------------------------------------------------------

def say_confirmation(conv: Conversation, turn: Turn, notes: list[str] | None = None) -> None:
    conv.say("\n".join([*(notes or []), prompts.confirm(summary(conv, turn), conv.address)]), buttons=("Yes", "No"))


def summary(conv: Conversation, turn: Turn) -> str:
    """Items, delivery fee (or free over ...), total, slot, payment, as the customer reads them."""
    rules, currency = turn.limits.shop, turn.limits.currency
    lines, _ = priced_lines(conv.cart, turn.deps.catalog)
    items = sum(line.total_cents for line in lines)
    bill = charges(rules, items, area_of(rules, conv.address))
    parts = [f"• {line.describe(currency)}" for line in lines]
    if rules.has_fee:
        parts.append(prompts.items_line(format_money(items, currency)))
        free_over = rules.free_delivery_over_cents
        threshold = format_round(free_over, currency) if free_over is not None else ""
        parts.append(prompts.delivery_free_line(threshold) if bill.waived else
                     prompts.delivery_line(format_money(bill.fee_cents, currency), threshold))
    parts.append(prompts.total_line(format_money(bill.total_cents, currency)))
    if conv.chosen.get("slot"):
        parts.append(prompts.slot_line(conv.chosen["slot"]["label"]))
    parts.append(prompts.payment_line(prompts.PAYMENT_LABELS[conv.chosen.get("payment", "on_delivery")].lower()))
    now = local(rules, turn.now)
    if not is_open(rules.hours, now) and (opening := next_opening(rules.hours, now)):
        parts.append(prompts.closed_accept(when(opening, now)))
    return "\n".join(parts)


def order_terms(conv: Conversation, turn: Turn) -> dict[str, Any]:
    """What PlaceOrder carries besides the lines: the fee rule, the slot, the payment, the area."""
    rules = turn.limits.shop
    area = area_of(rules, conv.address)
    fee = area.fee_cents if area is not None and area.fee_cents is not None else rules.delivery_fee_cents
    slot = conv.chosen.get("slot")
    return {"delivery_fee_cents": fee, "free_delivery_over_cents": rules.free_delivery_over_cents,
            "slot": {**slot, "when": slot_when(slot, rules)} if slot else None,
            "slot_capacity": rules.slots.capacity if rules.slots else 0,
            "payment": conv.chosen.get("payment", "on_delivery"), "area": (area.name or None) if area else None}
