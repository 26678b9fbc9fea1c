"""Order and confirm: filling the cart from what the customer says, then placing it.

Stock shown here comes from the catalog snapshot and is a courtesy; the store's conditional
decrement at placement is what prevents overselling, and `placement_done` handles its refusal.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statemachine import answers, checkout, clarify, details, prompts
from statemachine.cart import Line, priced_lines, quantity_of, set_quantity, summary
from statemachine.effects import Count, CreatePaymentLink, PlaceOrder
from statemachine.inputs import Ambiguous, Catalog, Invalid, Product, Unknown
from statemachine.model import Conversation, Limits, Turn
from statemachine.money import format_money, format_number, format_quantity


def show_cart(conv: Conversation, turn: Turn, lead: list[str] | None = None) -> None:
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


def show_cart_or_menu(conv: Conversation, turn: Turn) -> None:
    """After identification: straight to the cart if the customer already asked for items, else the menu."""
    if conv.cart:
        conv.shop(prompt=False)
        show_cart(conv, turn)
    else:
        conv.known_customer()


def _apply_one(conv: Conversation, turn: Turn, product: Product, quantity: float, action: str,
               count: float | None = None) -> str:
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
    return _done(product, quantity, wanted, action, count)


def _restock_offer(conv: Conversation) -> str:
    """Said once a turn, after the first product that is out of stock, to a customer we can tell later."""
    return " " + prompts.RESTOCK_OFFER if conv.registered and len(conv.out_of_stock) == 1 else ""


def _done(product: Product, quantity: float, wanted: float, action: str, count: float | None) -> str:
    """"Added 6 × Bananas, about 1.2 kg.": pieces of a by-weight product say what they weigh."""
    unit = product.unit
    if action == "add" and count:
        return prompts.added_pieces(format_number(count), product.name, format_quantity(quantity, unit))
    if action == "add":
        return prompts.added(f"{format_quantity(quantity, unit)} × {product.name}")
    if count:
        return prompts.now_pieces(product.name, format_quantity(wanted, unit), format_number(count))
    return prompts.now_quantity(product.name, format_quantity(wanted, unit))


def _refusal(bad: Invalid, catalog: Catalog, limits: Limits) -> str:
    """Why an amount was not put in the cart, naming the limit it broke."""
    product = catalog.get(bad.sku) if bad.sku else None
    name = product.name if product else bad.text
    if bad.reason in ("zero", "negative"):
        return prompts.zero_quantity(name)
    if bad.reason == "too_large":
        return prompts.too_many(name, format_quantity(limits.max_quantity, product.unit if product else "each"))
    if bad.reason == "too_small" and product:
        return prompts.too_little(name, format_quantity(product.smallest, product.unit))
    if bad.reason == "count" and product:
        return prompts.by_weight(name, product.unit)
    if product and bad.quantity is not None:  # "2 litres of apples"
        return prompts.wrong_unit(name, product.unit)
    return prompts.vague_amount(bad.text)


def _unknown(unknown: Unknown, catalog: Catalog) -> str:
    names = [p.name for p in (catalog.get(s) for s in unknown.suggestions[:3]) if p is not None]
    return prompts.unknown_product(unknown.text, names)


def _to_ask(conv: Conversation, turn: Turn, ambiguous: Sequence[Ambiguous], notes: list[str]) -> list[Ambiguous]:
    """Ambiguities to ask about; a removal or change of a name in the cart applies to the line there."""
    catalog, asking = turn.deps.catalog, []
    for amb in ambiguous:
        if amb.action == "add":
            asking.append(amb)
            continue
        # "no bread": the bread in the cart (as the catalog sells it now)
        in_cart = [p for p in (catalog.get(s) for s in amb.candidates if quantity_of(conv.cart, s)) if p is not None]
        if len(in_cart) == 1:
            notes.append(_apply_one(conv, turn, in_cart[0], amb.quantity, amb.action))
        elif not in_cart:
            notes.append(prompts.not_in_cart(amb.text))
        else:
            asking.append(amb)
    return asking


def add_requested_items(conv: Conversation, turn: Turn, quiet: bool = False) -> None:
    """Apply every item, refusal, unknown and ambiguity in the turn; ask about the ambiguities one by one.

    While a question is already open ("which milk?"), new ambiguities wait behind it and the open
    question is asked again after the notes, so no requested item is forgotten."""
    nlu, catalog, currency = turn.nlu, turn.deps.catalog, turn.limits.currency
    notes = [_apply_one(conv, turn, p, item.quantity, item.action, item.count)
             for item in nlu.items if (p := catalog.get(item.sku)) is not None]
    notes += [_refusal(bad, catalog, turn.limits) for bad in nlu.invalid]
    notes += [_unknown(u, catalog) for u in nlu.unknown]
    if nlu.more:  # a line longer than understanding reads: say so rather than drop the rest
        notes.append(prompts.READ_PART)
    asking = _to_ask(conv, turn, nlu.ambiguous, notes)
    question: str | None
    if conv.step == "clarify":
        question = clarify.queue_more(conv, asking, currency, catalog)
    else:
        question = clarify.ask(conv, asking, currency, catalog) if asking else None
    if quiet:
        return
    if question:
        conv.say("\n".join(notes + [question]), options=clarify.options_of(conv))
    else:
        show_cart(conv, turn, notes)


def _clarified(conv: Conversation, turn: Turn) -> bool:
    """The answer to 'which milk did you mean?'; False when the customer asked for something else
    instead (the item left out is named, and the turn goes on as usual)."""
    nlu, catalog, currency = turn.nlu, turn.deps.catalog, turn.limits.currency
    pending = conv.pending
    if nlu.intent == "question":  # "how much is the oat one?": answered, and the question stays open
        conv.say(answers.answer_text(turn) + "\n" + clarify.current(conv, currency, catalog),
                 options=clarify.options_of(conv))
        return True
    products = [p for p in (catalog.get(s) for s in pending["candidates"]) if p is not None]
    chosen = clarify.pick(turn.text, nlu.choice if nlu.intent == "choice" else None, nlu.intent, products,
                          pending["text"])
    if chosen is None and (nlu.items or nlu.ambiguous or nlu.invalid or nlu.unknown):
        add_requested_items(conv, turn)  # other products meanwhile: done, and the question asked again
        return True
    if chosen is None and nlu.intent in clarify.NOT_AN_ANSWER:
        conv.say(clarify.again(conv, currency, catalog), options=clarify.options_of(conv))
        return True
    if chosen is None:
        conv.say(prompts.left_out(pending["text"]))
        conv.step, conv.pending = None, {}
        return False
    note = prompts.skipped(pending["text"]) if isinstance(chosen, str) else \
        _apply_one(conv, turn, chosen, pending["quantity"], pending["action"])  # a str: clarify.NONE
    question = clarify.next_question(conv, currency, catalog)
    if question:
        conv.say("\n".join([note, question]), options=clarify.options_of(conv))
    else:
        show_cart(conv, turn, [note])
    return True


def order(conv: Conversation, turn: Turn) -> None:
    nlu = turn.nlu
    if conv.step == "clarify" and _clarified(conv, turn):
        return
    if details.handle(conv, turn):  # "change my address" while shopping
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
        return answers.reply(conv, turn)
    conv.say(prompts.DIDNT_CATCH_ORDER)


def confirm(conv: Conversation, turn: Turn) -> None:
    nlu = turn.nlu
    if details.at_confirm(conv, turn):  # a new name or address, or a question, then the summary again
        return
    if nlu.intent == "yes" or (nlu.intent == "choice" and nlu.choice == 1):
        key = f"{turn.channel}:{turn.message_id}"
        lines, gone = priced_lines(conv.cart, turn.deps.catalog)
        if not turn.deps.placed(key) and not _ready_to_place(conv, turn, lines, gone):
            return
        conv.do(PlaceOrder(
            key=key, phone=conv.customer_phone(),
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


def _ready_to_place(conv: Conversation, turn: Turn, lines: list[Line], gone: list[str]) -> bool:
    """A first 'yes': the cart still holds what was confirmed and no rule or stock changed since the
    summary; otherwise it has said what, and asked again.

    Never asked of a 'yes' whose key already has an order (`deps.placed`): that message was processed
    before and its commit lost (a worker died, a lease ran out). Its own first run may have taken the
    slot's last place or the last of a product, so judged again it would hear the slot is full or the
    item ran out while its order stands; PlaceOrder instead reports what the store recorded for it."""
    if gone or not lines:
        conv.shop(prompt=False)
        show_cart(conv, turn)
        return False
    return checkout.ready(conv, turn)


def _change_choice(conv: Conversation, turn: Turn) -> bool:
    """'another slot', 'change payment': forget that choice and ask it again."""
    words = set(turn.text.lower().replace("?", " ").split())
    for choice, cue in (("slot", {"slot", "time"}), ("payment", {"pay", "payment"})):
        if words & cue and conv.chosen.get(choice):
            conv.chosen.pop(choice)
            checkout.proceed(conv, turn)
            return True
    return False


def placement_done(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
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


def _placed(conv: Conversation, turn: Turn, result: dict[str, Any]) -> None:
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
