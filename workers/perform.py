"""Performing what the conversation asked for, after its turn: the store, codes, links, counters.

Each effect is idempotent under re-processing (a worker that died mid-turn runs the turn again):
orders carry the confirming message's key, customers are keyed by phone, links and locks are SETs.
Messages to send are not sent here: they join the turn's commit, so they leave only once.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.common.phones import mask
from bot.customers import codes as otp
from bot.customers import handoff
from bot.customers.privacy import erase_customer
from bot.outreach import sending
from bot.payments import links
from bot.pipeline import OutboundMessage
from bot.store import Terms
from statemachine import effects as fx

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.effects")

@dataclass
class Applied:
    """What the effects add to the turn's commit, and the outcomes the conversation asked for."""

    outbound: list[OutboundMessage] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)
    link_phone: str = ""  # '' leaves the identity's link; '-' removes it
    erased: bool = False
    results: list[tuple[fx.Effect, dict]] = field(default_factory=list)


CALL_LINK_TTL = 4 * 3600  # a call's own identity (its caller ID vouched for nothing) lives as long as a call


def ephemeral(identity: str) -> bool:
    """An identity that is one phone call ('voice:call-CA...'): a number it proves is not remembered
    for it beyond the call, nor listed on the customer."""
    return identity.startswith("voice:call-")


lock_seconds = otp.lock_seconds  # how long verification of a phone stays refused (too many wrong codes)


class EffectRunner:
    def __init__(self, rt: Runtime):
        self.rt = rt

    def apply(self, effects, turn, applied: Applied) -> Applied:
        for effect in effects:
            handler = getattr(self, "_" + effect.kind)
            result = handler(effect, turn, applied)
            if effect.wants_result:
                applied.results.append((effect, result))
        return applied

    def _SendCode(self, e: fx.SendCode, turn, applied: Applied) -> dict:
        """The shop's code policy (bot/customers/codes.py) decides; a refusal is counted by its reason."""
        codes = self.rt.codes
        if codes is None:  # the conversation never asks then; a stale turn might
            sent = otp.Sent(False, "unavailable")
        else:
            sent = codes.send(e.phone, e.code, turn.identity, reply_id=f"{turn.channel}:{turn.message_id}:code",
                              now=turn.now)
        if sent.outbound is not None:
            applied.outbound.append(sent.outbound)
        applied.counters["codes_sent" if sent.sent else f"codes_refused:{sent.reason}"] += 1
        return sent.to_result()

    def _CheckCode(self, e: fx.CheckCode, turn, applied: Applied) -> dict:
        outcome = self.rt.codes.check(e.phone, e.code) if self.rt.codes is not None else "unavailable"
        applied.counters[f"codes_checked:{outcome}"] += 1
        return {"result": outcome}

    def _LockVerification(self, e: fx.LockVerification, turn, applied: Applied):
        otp.lock(self.rt.redis, e.phone, e.seconds)
        applied.counters["verification_locks"] += 1
        log.warning("verification locked phone=%s seconds=%d", mask(e.phone), e.seconds)

    def _LinkIdentity(self, e: fx.LinkIdentity, turn, applied: Applied):
        applied.link_phone = e.phone
        if not ephemeral(e.identity):
            self.rt.store.customers.add_identity(e.phone, e.identity)

    def _SaveCustomer(self, e: fx.SaveCustomer, turn, applied: Applied) -> dict:
        doc = self.rt.store.customers.save(e.phone, e.name, e.address, e.identity)
        applied.counters["customers_registered"] += 1
        return {"id": doc["_id"], "name": doc["name"], "address": doc["address"]}

    def _UpdateCustomer(self, e: fx.UpdateCustomer, turn, applied: Applied):
        self.rt.store.customers.change_detail(e.phone, e.field, e.value, e.key, e.channel)
        applied.counters["customer_details_changed"] += 1
        log.info("customer changed their %s phone=%s", e.field, mask(e.phone))

    def _PlaceOrder(self, e: fx.PlaceOrder, turn, applied: Applied) -> dict:
        store = self.rt.store
        customer = {"_id": e.customer_id, "name": e.customer_name} if e.customer_id else None
        terms = Terms(e.delivery_fee_cents, e.free_delivery_over_cents, e.slot, e.slot_capacity, e.payment, e.area,
                      pay_within=self.rt.settings.PAYMENT_EXPIRY_MINUTES * 60)
        placement = store.orders.place(key=e.key, phone=e.phone, customer=customer,
                                       lines=e.lines, address=e.address, channel=e.channel,
                                       currency=self.rt.settings.CURRENCY, identity=turn.identity, terms=terms)
        result = placement.to_result()
        if placement.ok:
            applied.counters[f"revenue_cents:{e.channel}"] += result["total_cents"]
        elif result["reason"] == "slot_full":
            applied.counters["orders_refused_slot"] += 1
        else:
            applied.counters["orders_refused_stock"] += 1
        return result

    def _SaveAddress(self, e: fx.SaveAddress, turn, applied: Applied):
        self.rt.store.customers.set_address(e.phone, e.address)

    def _CreatePaymentLink(self, e: fx.CreatePaymentLink, turn, applied: Applied) -> dict:
        """A Stripe Checkout link for the stored order's total; if Stripe cannot be reached and the
        shop also takes payment on delivery, the order goes ahead that way (never lost)."""
        on_delivery = "on_delivery" in turn.limits.shop.payment_methods
        result = links.create(self.rt, e.order_id, on_delivery_allowed=on_delivery)
        applied.counters["payment_links" if result.get("url") else "payment_link_fallbacks"] += 1
        return result

    def _CancelOrder(self, e: fx.CancelOrder, turn, applied: Applied) -> dict:
        ok = self.rt.store.orders.cancel(e.order_id, e.phone)
        if ok:
            applied.counters["orders_cancelled"] += 1  # an unpaid order's link is closed by the expiry sweep
        return {"ok": ok}

    def _EraseCustomer(self, e: fx.EraseCustomer, turn, applied: Applied):
        erased = erase_customer(self.rt, e.phone, e.identities)
        applied.erased = True
        # this chat's link goes if it pointed at the erased phone (an integrator vouching has none)
        applied.link_phone = "-" if turn.identity in erased["unlinked"] else ""
        applied.counters["customers_erased"] += 1

    def _RequestHandoff(self, e: fx.RequestHandoff, turn, applied: Applied):
        handoff.wait(self.rt.redis, identity=e.identity, phone=e.phone, name=e.name, text=e.text, now=turn.now)
        applied.counters["handoffs_requested"] += 1
        log.info("conversation waits for a person channel=%s from=%s", turn.channel, mask(e.phone or e.identity))

    def _EndHandoff(self, e: fx.EndHandoff, turn, applied: Applied):
        handoff.done(self.rt.redis, handoff.key_for(e.phone, e.identity))

    def _Count(self, e: fx.Count, turn, applied: Applied):
        applied.counters[e.name] += 1

    # -- messages the shop sends first (bot/outreach) -------------------------------------------
    def _WaitForRestock(self, e: fx.WaitForRestock, turn, applied: Applied):
        if self.rt.store.outreach.wait_for(e.phone, e.sku, e.identity, turn.now):
            applied.counters["restock_requests"] += 1

    def _SetReminders(self, e: fx.SetReminders, turn, applied: Applied):
        self.rt.store.outreach.set_reminders(e.phone, e.on, turn.now)
        applied.counters["reminders_on" if e.on else "reminders_off"] += 1
        log.info("reminders %s phone=%s", "on" if e.on else "off", mask(e.phone))

    def _RecordFeedback(self, e: fx.RecordFeedback, turn, applied: Applied):
        if self.rt.store.feedback.record(e.order_id, e.phone, e.rating, e.comment, f"{turn.channel}:{turn.message_id}",
                                         turn.now):
            applied.counters["feedback_ratings"] += 1
            applied.counters["feedback_rating_sum"] += e.rating
            applied.counters[f"feedback_rating:{e.rating}"] += 1

    def _Later(self, e: fx.Later, turn, applied: Applied):
        sending.later(self.rt, turn, e.message, e.meta, e.seconds)

