"""Messages the shop sends first: back in stock, a cart left behind, a request for feedback.

Each goes as a control message through the customer's own mailbox (like an operator's reply), so
it takes its turn in order with the customer's messages, under the conversation's lock, and the
conversation (statemachine/outreach.py) says it only if it is still true then: the cart still
waits and was not reminded of, the product is in stock, the customer did not say "stop reminders".
Here: whom to tell, on which identity, and when.

- Never twice: a job's id is its control message's id (ingress accepts an id once); a waiting
  list entry is pulled by one caller; a cart's due entry and a deferred job are taken with a ZREM.
- Quiet hours (QUIET_HOURS, the shop's local time): nothing goes out inside them; it waits.
- Channels: Telegram, WhatsApp and SMS through the outbox (WhatsApp outside its 24-hour window as
  the purpose's approved template; an SMS number that texted STOP refuses it at ingress);
  /api/chat users as notices; a phone call or the console cannot be reached: skipped.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeGuard

from bot.outreach import carts, sending
from bot.outreach.quiet import QuietHours, in_quiet_hours
from bot.outreach.sending import Job
from bot.pipeline.keys import digest
from bot.shop.catalog import Product
from statemachine.outreach import BACK_IN_STOCK, FEEDBACK_REQUEST

if TYPE_CHECKING:
    from bot.runtime import Runtime


def ask_feedback(rt: Runtime, order: dict, now: float | None = None) -> str | None:
    """The order was delivered: ask its customer, where they ordered from, for a rating."""
    identity = order.get("identity")
    if not identity or not order.get("phone") or order.get("anonymised"):
        return None
    job = Job(id=f"feedback-{order['_id']}", kind=FEEDBACK_REQUEST, identity=identity, phone=order["phone"],
              meta={"order_id": order["_id"], "number": str(order["number"]), "template": "feedback",
                    "variables": {"1": str(order["number"])}})
    return sending.send(rt, job, now)


def sellable(product: Product | None) -> TypeGuard[Product]:
    return product is not None and product.available and product.stock > 0


def announce_restock(rt: Runtime, skus, now: float | None = None) -> int:
    """These products are back: each customer waiting for one hears it once (taken off the list
    by exactly one caller, however many announce it). Returns how many were told or scheduled."""
    now = time.time() if now is None else now
    told = 0
    for sku in dict.fromkeys(skus):
        product = rt.store.products.get(sku)
        if not sellable(product):
            continue
        for entry in rt.store.outreach.take_waiting(sku):
            job = Job(id=f"restock-{sku}-{digest(entry['phone'])}-{int(entry['at'] * 1000)}", kind=BACK_IN_STOCK,
                      identity=entry["identity"], phone=entry["phone"],
                      meta={"sku": sku, "template": "back_in_stock", "variables": {"1": product.name}})
            told += sending.send(rt, job, now) in (sending.SENT, sending.DEFERRED)
    return told


def restocked(before: dict, after: dict) -> list[str]:
    """The skus that could not be sold before and can now ({sku: Product | None} each)."""
    return [sku for sku, product in after.items() if sellable(product) and not sellable(before.get(sku))]


def sweep(rt: Runtime, now: float | None = None) -> dict:
    """The maintenance sweep's part: deferred messages whose time came, and carts left behind."""
    now = time.time() if now is None else now
    return {"outreach_sent": sending.run_due(rt, now), "cart_reminders": carts.sweep(rt, now)}


__all__ = ["ask_feedback", "announce_restock", "restocked", "sellable", "sweep", "Job", "QuietHours",
           "in_quiet_hours", "carts", "sending"]
