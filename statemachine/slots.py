"""The `slot` state: when to deliver. The next available slots, a page at a time, by number or button.

Availability is a snapshot (`deps.slot_booked`); the booking itself happens with the order, in one
conditional update against the slot's capacity (bot/store/slots.py), so a slot that filled up in
between is refused at 'yes' and the customer is offered the next ones (shopping.placement_done).
"""
from __future__ import annotations

from statemachine import prompts
from statemachine.flow import go, say
from statemachine.model import Conversation, Turn
from statemachine.rules import Slot, SlotRules, upcoming_slots

LATER = ("later", "more", "other", "others", "another", "next")


def available(turn: Turn) -> list[Slot]:
    rules = turn.limits.shop
    if rules.slots is None:
        return []
    upcoming = upcoming_slots(rules, turn.now)
    booked = turn.deps.slot_booked([s.id for s in upcoming]) if upcoming else {}
    return [s for s in upcoming if booked.get(s.id, 0) < rules.slots.capacity]


def check(conv: Conversation, turn: Turn, notes: list[str]) -> bool:
    """Checkout's slot step: nothing to do without slots, or with a chosen slot still open."""
    rules = turn.limits.shop.slots
    if rules is None:
        conv.chosen.pop("slot", None)
        return False
    open_now = available(turn)
    chosen = conv.chosen.pop("slot", None)
    if chosen and any(s.id == chosen["id"] for s in open_now):
        conv.chosen["slot"] = chosen
        return False
    if chosen:  # it filled up, or passed its cut-off, since it was chosen
        notes.append(prompts.slot_taken(chosen["label"]))
    return offer(conv, rules, notes, open_now, 0)


def offer(conv: Conversation, rules: SlotRules, notes: list[str], slots: list[Slot], start: int) -> bool:
    """A page of the available `slots` from `start` (the last page past the end); none: back to the cart."""
    if not slots:
        go(conv, "order")
        say(conv, notes + [prompts.no_slots(rules.days_ahead)])
        return True
    if start >= len(slots):  # asked for later slots past the last one: the last page again
        notes = notes + [prompts.NO_LATER_SLOTS]
        start = max(0, len(slots) - rules.offer)
    page = slots[start:start + rules.offer]
    go(conv, "slot")
    conv.pending = {"offered": [s.to_dict() for s in page], "start": start}
    labels = tuple(s.label for s in page)
    say(conv, notes + [prompts.choose_slot(list(labels))], buttons=labels, options=labels)
    return True


def choose(conv: Conversation, turn: Turn) -> bool:
    """True once the customer chose (checkout goes on); otherwise it has asked again."""
    pending, nlu = conv.pending, turn.nlu
    offered = pending.get("offered", [])
    text = " ".join(turn.text.lower().split())
    pick = next((o for o in offered if o["label"].lower() == text), None)  # a button
    if pick is None and nlu.intent == "choice" and nlu.choice and 1 <= nlu.choice <= len(offered):
        pick = offered[nlu.choice - 1]
    if pick is None and any(word in text.split() for word in LATER):
        return _later(conv, turn, pending.get("start", 0) + len(offered))
    if pick is None:
        labels = tuple(o["label"] for o in offered)
        conv.say(nlu.answer if nlu.intent == "question" and nlu.answer else prompts.SLOT_WHICH,
                 buttons=labels, options=labels)
        return False
    conv.chosen["slot"] = pick
    return True


def _later(conv: Conversation, turn: Turn, start: int) -> bool:
    """'later': the next page (False: it asked again), or True if the shop's file stopped offering slots
    since the page was shown (checkout goes on, and its slot check asks for none)."""
    rules = turn.limits.shop.slots
    if rules is None:
        return True
    offer(conv, rules, [], available(turn), start)
    return False
