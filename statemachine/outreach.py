"""Messages the shop sends first, as the conversation sees them.

They arrive as control messages through the customer's own mailbox (kinds in KINDS, sent by
bot/outreach), so each takes its turn in order with the customer's messages, and is said only if
it is still true now: the cart is still waiting and was not reminded of, the product is in stock,
the customer did not say "stop reminders" (and, for cart reminders by SMS or WhatsApp, said
"start reminders": a marketing message needs the customer's consent there). The customer's side:
"tell me when it's back", "stop reminders" / "start reminders", and the answer to a rating request.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from statemachine import prompts
from statemachine.effects import Later, RecordFeedback, SetReminders, WaitForRestock
from statemachine.flow import FLOW_STATES
from statemachine.inputs import Catalog, Product
from statemachine.model import Conversation, Turn
from statemachine.money import format_money

BACK_IN_STOCK, CART_REMINDER, FEEDBACK_REQUEST = "back_in_stock", "cart_reminder", "feedback_request"
KINDS = (BACK_IN_STOCK, CART_REMINDER, FEEDBACK_REQUEST)
CONSENT_CHANNELS = ("sms", "whatsapp")  # a cart reminder goes there only to a customer who opted in
QUIET_STATES = ("menu", "greeting")  # a feedback request interrupts nothing only here
FEEDBACK_RETRY_SECONDS = 1800  # the customer is busy ordering: ask again later
FEEDBACK_TRIES = 6
FEEDBACK_ANSWER_SECONDS = 2 * 86400  # a rating request unanswered this long is forgotten

_STOP = re.compile(r"\b(?:stop|no more|unsubscribe(?: me)?(?: from)?|opt ?out(?: of)?|turn off|don'?t send(?: me)?)"
                   r" (?:all |the |your |any )?"
                   r"(?:reminders?|notifications?|promotions?|marketing|these(?: messages)?)\b")
_START = re.compile(r"\b(?:start|turn on|resume|send me|i want)(?: the| your)? (?:reminders?|notifications?)\b"
                    r"|^remind me(?: about my cart)?$")
_RESTOCK = re.compile(r"\b(?:tell|let|notify|message|text|ping|alert|inform)(?: me| us)?(?: know)?\b.*"
                      r"\b(?:when|once|if|as soon as)\b.*\b(?:back|in stock|available|restocked|comes? in)\b"
                      r"|^notify me\b|\bback in stock alert\b")
_RATING = re.compile(r"^\s*([1-5])(?!\d)\s*(?:/\s*5|out of (?:5|five)|stars?|\*+|⭐+)?\s*[-–—,.:;!)]*\s*(.*)$", re.S)
_STARS = re.compile(r"^\s*(⭐{1,5})\s*(.*)$", re.S)


def _text(turn: Turn) -> str:
    return " ".join(turn.text.lower().replace("’", "'").split())


def rating(text: str) -> tuple[int, str] | None:
    """'4', '4/5', '5 stars, quick delivery', '⭐⭐⭐' -> (rating, comment); None if it is not one."""
    m = _RATING.match(text) or _STARS.match(text)
    if not m:
        return None
    score = int(m.group(1)) if m.group(1).isdigit() else len(m.group(1))
    return score, " ".join(m.group(2).split())[:500]


# -- what the shop sends first (control messages) ----------------------------------------------

def control(conv: Conversation, turn: Turn) -> None:
    {BACK_IN_STOCK: _back_in_stock, CART_REMINDER: _cart_reminder, FEEDBACK_REQUEST: _ask_feedback}[turn.kind](
        conv, turn)


def _opted_out(turn: Turn, phone: str | None) -> bool:
    customer = turn.deps.find_customer(phone) if phone else None
    return customer is None or customer.get("reminders") is False


def _back_in_stock(conv: Conversation, turn: Turn) -> None:
    sku, phone = turn.meta.get("sku", ""), conv.phone
    product = turn.deps.catalog.get(sku)
    if product is None or phone is None or _opted_out(turn, phone):
        return  # no longer sold, or no longer theirs to hear (forgotten), or they asked for no more messages
    if product.stock <= 0:  # sold out again before we could tell them: they keep their place
        conv.do(WaitForRestock(phone=phone, sku=sku, identity=turn.identity))
        return
    per = "" if product.unit == "each" else f"/{product.unit}"
    conv.say(prompts.back_in_stock(product.name, format_money(product.price_cents, turn.limits.currency) + per))


def _cart_reminder(conv: Conversation, turn: Turn) -> None:
    """Once per cart: only if it still waits (no order since, nothing changed since the sweep saw it)."""
    if not conv.cart or conv.state not in FLOW_STATES or conv.reminded:
        return
    if conv.updated_at > float(turn.meta.get("left_at", 0)) + 1:
        return  # the customer came back after the sweep looked: not left behind
    customer = turn.deps.find_customer(conv.phone) if conv.phone else None
    consent = (customer or {}).get("reminders")
    if customer is None or consent is False or (turn.channel in CONSENT_CHANNELS and consent is not True):
        return
    conv.reminded = True
    conv.say(prompts.cart_reminder(prompts.items_count(len(conv.cart))), buttons=("Done", "Menu"))


def _ask_feedback(conv: Conversation, turn: Turn) -> None:
    meta = turn.meta
    if _opted_out(turn, conv.phone):
        return
    if conv.state not in QUIET_STATES or conv.step:  # the customer is in the middle of something
        tries = int(meta.get("tries", 0)) + 1
        if tries < FEEDBACK_TRIES:
            conv.do(Later(message=FEEDBACK_REQUEST, seconds=FEEDBACK_RETRY_SECONDS, meta={**meta, "tries": tries}))
        return
    conv.feedback = {"order_id": meta["order_id"], "number": str(meta["number"]), "asked_at": turn.now}
    conv.say(prompts.ask_feedback(str(meta["number"])))


# -- what the customer says about them ---------------------------------------------------------

def words(conv: Conversation, turn: Turn, told_out: list[str]) -> bool:
    """A rating, 'stop/start reminders', 'tell me when it's back'. True if handled.
    `told_out`: the products the customer was told last turn were out of stock."""
    pending, conv.feedback = conv.feedback, None  # a rating answers the question just asked, or never
    if pending and turn.now - pending.get("asked_at", 0) < FEEDBACK_ANSWER_SECONDS and _rated(conv, turn, pending):
        return True
    text = _text(turn)
    if _STOP.search(text):
        if conv.phone:
            conv.do(SetReminders(phone=conv.phone, on=False))
        conv.say(prompts.REMINDERS_OFF)
        return True
    if _START.search(text):
        if not conv.registered:
            return False
        conv.do(SetReminders(phone=conv.customer_phone(), on=True))
        conv.say(prompts.REMINDERS_ON)
        return True
    if _RESTOCK.search(text) and conv.registered:
        _wait_for_restock(conv, turn, told_out)
        return True
    return False


def _rated(conv: Conversation, turn: Turn, pending: dict[str, Any]) -> bool:
    got = rating(turn.text)
    if got is None:
        return False
    score, comment = got
    conv.do(RecordFeedback(order_id=pending["order_id"], phone=conv.phone or "", rating=score, comment=comment))
    said = [prompts.feedback_thanks(score)]
    if score <= 2:
        said.append(prompts.FEEDBACK_SORRY)
    conv.say(" ".join(said))
    return True


def _wait_for_restock(conv: Conversation, turn: Turn, told_out: list[str]) -> None:
    """The products named in the line (out of stock ones first), else those just said to be out."""
    catalog, text = turn.deps.catalog, _text(turn)
    read = [i.sku for i in turn.nlu.items] + [c for amb in turn.nlu.ambiguous for c in amb.candidates[:1]]
    read = [s for s in read if (product := catalog.get(s)) is not None and _mentioned(product, text)]
    named = _products(catalog, dict.fromkeys(read + [p.sku for p in catalog if _named(p, text)]))
    out = [p for p in named if p.stock <= 0] or _products(catalog, told_out)
    if not out:
        return conv.say(prompts.in_stock_now(named[0].name) if named else prompts.RESTOCK_WHICH)
    phone = conv.customer_phone()
    for product in out:
        conv.do(WaitForRestock(phone=phone, sku=product.sku, identity=turn.identity))
    conv.say(prompts.restock_noted(", ".join(p.name for p in out)))


def _products(catalog: Catalog, skus: Iterable[str]) -> list[Product]:
    """The products of these skus that the catalog still sells, in their order."""
    return [p for p in (catalog.get(s) for s in skus) if p is not None]


def _named(product: Product, text: str) -> bool:
    """The product's name or one of its aliases, as whole words in the line."""
    return any(re.search(rf"\b{re.escape(n)}s?\b", text) for n in (product.name.lower(), *product.aliases) if n)


def _mentioned(product: Product, text: str) -> bool:
    """Did the line really name it (its name, an alias, or a word of either), not a fuzzy guess?"""
    words = set(re.findall(r"[a-z]+", text))
    names = [product.name.lower(), *product.aliases]
    return any(n in text for n in names) or any(len(w) > 3 and (w in words or w + "s" in words)
                                                for n in names for w in n.split())
