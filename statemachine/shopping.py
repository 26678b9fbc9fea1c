"""Order and confirm: filling the cart from what the customer says, then placing it.

Stock shown here comes from the catalog snapshot and is a courtesy; the store's conditional
decrement at placement is what prevents overselling, and `placement_done` handles its refusal.
"""
from __future__ import annotations

from . import checkout, prompts
from .cart import priced_lines, quantity_of, set_quantity, summary
from .effects import Count, CreatePaymentLink, PlaceOrder
from .money import format_money, format_quantity


def _product_label(product, currency: str) -> str:
    per = "" if product.unit == "each" else f"/{product.unit}"
    return f"{product.name} ({format_money(product.price_cents, currency)}{per})"


def show_cart(conv, turn, lead: list[str] | None = None) -> None:
    """Say `lead` lines, then the cart and the next question, as one message."""
    parts = list(lead or [])
    lines, gone = priced_lines(conv.cart, turn.deps.catalog)
    if gone:
        conv.cart[:] = [e for e in conv.cart if e["sku"] not in gone]
        parts.append(prompts.dropped_from_catalog(len(gone)))
    if lines:
        parts += [prompts.cart_header(summary(lines, turn.limits.currency)), prompts.ANYTHING_ELSE]
    elif not parts:
        parts.append(prompts.CART_EMPTY)
    conv.say("\n".join(parts), buttons=("Done", "Menu") if lines else ())


def show_cart_or_menu(conv, turn, trigger: str) -> None:
    """After identification: straight to the cart if the customer already asked for items."""
    if conv.cart:
        conv.shop(prompt=False)
        show_cart(conv, turn)
    else:
        getattr(conv, trigger)()


def _apply_one(conv, turn, product, quantity: float, action: str) -> str:
    """Change one cart line; returns the sentence describing what happened (or why not)."""
    limits, cart = turn.limits, conv.cart
    current = quantity_of(cart, product.sku)
    if action == "remove":
        if not current:
            return prompts.not_in_cart(product.name)
        set_quantity(cart, product.sku, 0)
        return prompts.removed(product.name)
    wanted = quantity if action == "set" else current + quantity
    if wanted > limits.max_quantity:
        return prompts.too_many(product.name, format_quantity(limits.max_quantity, product.unit))
    if product.stock <= 0:
        conv.out_of_stock.append(product.sku)  # the customer may ask to be told when it's back
        return prompts.out_of_stock(product.name) + _restock_offer(conv)
    if wanted > product.stock:
        return prompts.only_left(product.name, format_quantity(product.stock, product.unit))
    set_quantity(cart, product.sku, wanted)
    return prompts.added(f"{format_quantity(quantity, product.unit)} × {product.name}") if action == "add" \
        else f"{product.name}: now {format_quantity(wanted, product.unit)}."


def _restock_offer(conv) -> str:
    """Said once a turn, after the first product that is out of stock, to a customer we can tell later."""
    return " " + prompts.RESTOCK_OFFER if conv.registered and len(conv.out_of_stock) == 1 else ""


def add_requested_items(conv, turn, quiet: bool = False) -> None:
    """Apply every item, refusal, unknown and ambiguity in the turn; ask about the first ambiguity."""
    nlu, catalog, currency = turn.nlu, turn.deps.catalog, turn.limits.currency
    notes = []
    for item in nlu.items:
        product = catalog.get(item.sku)
        if product is not None:
            notes.append(_apply_one(conv, turn, product, item.quantity, item.action))
    for bad in nlu.invalid:
        product = catalog.get(bad.sku) if bad.sku else None
        name = product.name if product else bad.text
        if bad.reason in ("zero", "negative"):
            notes.append(prompts.zero_quantity(name))
        elif bad.reason == "too_large":
            unit = product.unit if product else "each"
            notes.append(prompts.too_many(name, format_quantity(turn.limits.max_quantity, unit)))
        elif product and bad.quantity is not None:  # "2 litres of apples"
            notes.append(prompts.wrong_unit(name, product.unit))
        else:
            notes.append(prompts.vague_amount(bad.text))
    for unknown in nlu.unknown:
        names = [p.name for p in (catalog.get(s) for s in unknown.suggestions[:3]) if p is not None]
        notes.append(prompts.unknown_product(unknown.text, names))
    question = None
    ambiguous = []
    for amb in nlu.ambiguous:
        if amb.action == "add":
            ambiguous.append(amb)
            continue
        in_cart = [s for s in amb.candidates if quantity_of(conv.cart, s)]  # "no bread": the bread in the cart
        if len(in_cart) == 1:
            notes.append(_apply_one(conv, turn, catalog.get(in_cart[0]), amb.quantity, amb.action))
        elif not in_cart:
            notes.append(prompts.not_in_cart(amb.text))
        else:
            ambiguous.append(amb)
    if ambiguous:
        amb = ambiguous[0]
        products = [p for p in (catalog.get(s) for s in amb.candidates) if p is not None]
        conv.step = "clarify"
        conv.pending = {"candidates": [p.sku for p in products], "quantity": amb.quantity, "action": amb.action}
        question = prompts.which_one(amb.text, [_product_label(p, currency) for p in products])
    if quiet:
        return
    if question:
        conv.say("\n".join(notes + [question]), options=tuple(conv.pending["candidates"]))
    else:
        show_cart(conv, turn, notes)


def _clarified(conv, turn) -> bool:
    """The answer to 'which milk did you mean?': a number, or one of the offered products by name."""
    pending, nlu = conv.pending, turn.nlu
    candidates = pending["candidates"]
    sku = None
    if nlu.choice is not None and 1 <= nlu.choice <= len(candidates):
        sku = candidates[nlu.choice - 1]
    else:  # "skim", "the oat one": whatever the words point at, among the products offered
        named = {i.sku for i in nlu.items} | {s for u in nlu.unknown for s in u.suggestions} \
            | {s for a in nlu.ambiguous for s in a.candidates}
        offered = [s for s in candidates if s in named]
        sku = offered[0] if len(offered) == 1 and len(nlu.items) <= 1 else None
    conv.step, conv.pending = None, {}
    if sku is None:
        return False
    product = turn.deps.catalog.get(sku)
    show_cart(conv, turn, [_apply_one(conv, turn, product, pending["quantity"], pending["action"])])
    return True


def order(conv, turn) -> None:
    nlu = turn.nlu
    if conv.step == "clarify" and _clarified(conv, turn):
        return
    intent = nlu.intent
    if nlu.items or nlu.ambiguous or nlu.invalid or (nlu.unknown and intent in ("add_items", "unknown")):
        return add_requested_items(conv, turn)
    if intent == "show_cart":
        return show_cart(conv, turn)
    if intent == "clear_cart":
        conv.cart.clear()
        return conv.say(prompts.CART_CLEARED + " " + prompts.ORDER_PROMPT)
    if intent in ("checkout", "no"):  # "no" answers "Anything else?"
        if not conv.cart:
            return conv.say(prompts.CART_EMPTY)
        return checkout.proceed(conv, turn)
    if intent in ("order", "yes"):
        return conv.say(prompts.ORDER_PROMPT)
    if intent == "question":
        return conv.say(nlu.answer or prompts.CANT_ANSWER)
    conv.say(prompts.DIDNT_CATCH_ORDER)


def confirm(conv, turn) -> None:
    nlu = turn.nlu
    if nlu.intent == "yes" or (nlu.intent == "choice" and nlu.choice == 1):
        lines, gone = priced_lines(conv.cart, turn.deps.catalog)
        if gone or not lines:
            conv.shop(prompt=False)
            return show_cart(conv, turn)
        if not checkout.ready(conv, turn):  # a rule or the stock changed since the summary: it said what
            return
        conv.do(PlaceOrder(
            key=f"{turn.channel}:{turn.message_id}", phone=conv.phone,
            lines=tuple((line.sku, line.quantity) for line in lines), address=conv.address or "",
            channel=turn.channel, customer_id=conv.customer_id, customer_name=conv.name,
            **checkout.order_terms(conv, turn),
        ))
        return
    if nlu.intent == "no" or (nlu.intent == "choice" and nlu.choice == 2):
        conv.shop(prompt=False)
        return conv.say(prompts.BACK_TO_ORDER)
    if _change_choice(conv, turn):
        return
    if nlu.items or nlu.ambiguous or nlu.unknown or nlu.invalid:
        conv.shop(prompt=False)
        return add_requested_items(conv, turn)
    if nlu.intent in ("show_cart", "checkout"):
        return checkout.say_confirmation(conv, turn)
    conv.say(prompts.CONFIRM_YES_NO, buttons=("Yes", "No"))


def _change_choice(conv, turn) -> bool:
    """'another slot', 'change payment': forget that choice and ask it again."""
    words = set(turn.text.lower().replace("?", " ").split())
    for choice, cue in (("slot", {"slot", "time"}), ("payment", {"pay", "payment"})):
        if words & cue and conv.chosen.get(choice):
            conv.chosen.pop(choice)
            checkout.proceed(conv, turn)
            return True
    return False


def placement_done(conv, turn, result: dict) -> None:
    """PlaceOrder's outcome: placed (cart emptied), or refused: stock ran out (its lines offered
    alternatives or fewer), the slot filled up (the next ones offered), or a retry came too late."""
    if result.get("ok"):
        return _placed(conv, turn, result)
    reason = result.get("reason", "stock")
    if reason == "stale":
        return conv.say(prompts.PLACEMENT_STALE, buttons=("Yes", "No"))
    if reason == "slot_full":
        slot = conv.chosen.pop("slot", None) or {"label": ""}
        return checkout.proceed(conv, turn, [prompts.slot_taken(slot["label"])])
    names = []
    for short in result.get("short", []):
        product = turn.deps.catalog.get(short["sku"])
        names.append(product.name if product else short["sku"])
        conv.chosen.setdefault("short", {})[short["sku"]] = max(0, short.get("available", 0))
    checkout.proceed(conv, turn, [prompts.sold_out_meanwhile(names)])


def _placed(conv, turn, result: dict) -> None:
    chosen, currency = dict(conv.chosen), turn.limits.currency
    conv.cart.clear()
    conv.chosen.clear()
    conv.do(Count("orders_placed"))
    conv.placed(prompt=False)
    if result.get("awaiting_payment"):  # the link follows (CreatePaymentLink's outcome says it)
        conv.do(CreatePaymentLink(result["id"]))
        return
    parts = [prompts.placed(result["number"], format_money(result["total_cents"], currency), conv.address)]
    if result.get("delivery_fee_cents"):
        parts.append(prompts.placed_fee(format_money(result["delivery_fee_cents"], currency)))
    if chosen.get("slot"):
        parts.append(prompts.placed_slot(chosen["slot"]["label"]))
    if turn.limits.shop.payment_methods != ("on_delivery",) or turn.limits.shop.has_fee:
        parts.append(prompts.PAY_ON_DELIVERY)
    conv.say(" ".join(parts))
