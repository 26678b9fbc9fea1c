"""Effects: what the conversation asks the world to do. The worker performs them after the turn.

Effects marked `wants_result` report back (`statemachine.resolve`), because the next words the
customer hears depend on the outcome (an order placed, or stock that ran out meanwhile).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Effect:
    wants_result = False

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class SendCode(Effect):
    """Text a one-time code to a phone the customer typed (the channel can't vouch for it). The
    shop's policy may refuse it (a premium-rate number, too many codes): the result says
    {"sent": bool, "reason": ...}. A provider that makes its own codes ignores `code`."""

    phone: str
    code: str
    wants_result = True

    def to_dict(self) -> dict:  # the code itself never reaches logs or history
        return {"kind": self.kind, "phone": self.phone}


@dataclass(frozen=True)
class CheckCode(Effect):
    """Ask the code provider (Twilio Verify) whether `code` is the one it sent to `phone`. The result
    says {"result": "approved" | "wrong" | "expired" | "too_many" | "unavailable"}."""

    phone: str
    code: str
    wants_result = True

    def to_dict(self) -> dict:
        return {"kind": self.kind, "phone": self.phone}


@dataclass(frozen=True)
class LockVerification(Effect):
    """Refuse codes for this phone for a while, across every conversation, after too many misses."""

    phone: str
    seconds: int


@dataclass(frozen=True)
class LinkIdentity(Effect):
    """Remember that this channel identity (a Telegram chat, an API user) is this phone's owner."""

    identity: str
    phone: str


@dataclass(frozen=True)
class SaveCustomer(Effect):
    phone: str
    name: str
    address: str
    identity: str
    wants_result = True


@dataclass(frozen=True)
class UpdateCustomer(Effect):
    """The customer changed their name or delivery address; the store records that it changed
    (which field, when, on which channel), once per message `key`."""

    phone: str
    field: str  # "name" | "address"
    value: str
    key: str
    channel: str


@dataclass(frozen=True)
class PlaceOrder(Effect):
    """Place the cart as an order. `key` makes a retried job place it once."""

    key: str
    phone: str
    lines: tuple[tuple[str, float], ...]  # (sku, quantity); prices come from the store
    address: str
    channel: str
    customer_id: str | None = None  # who, as the conversation knows them (no second lookup)
    customer_name: str | None = None
    delivery_fee_cents: int = 0  # the rule, not an amount: the store applies it to its own item total
    free_delivery_over_cents: int | None = None
    slot: dict | None = None  # {"id", "start", "end", "label"}: booked atomically with the stock
    slot_capacity: int = 0
    payment: str = "on_delivery"  # or "online": the order waits for Stripe's webhook
    area: str | None = None
    wants_result = True


@dataclass(frozen=True)
class SaveAddress(Effect):
    """The customer gave a new delivery address (the old one is outside the shop's areas)."""

    phone: str
    address: str


@dataclass(frozen=True)
class CreatePaymentLink(Effect):
    """A Stripe Checkout link for an order waiting for payment; the amount comes from the stored order."""

    order_id: str
    wants_result = True


@dataclass(frozen=True)
class CancelOrder(Effect):
    order_id: str
    phone: str  # the store refuses to cancel an order that isn't this customer's
    wants_result = True


@dataclass(frozen=True)
class EraseCustomer(Effect):
    """Delete my data: the customer and their history go; their orders stay, anonymised."""

    phone: str
    identities: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Count(Effect):
    """Bump an operator-facing counter (conversation completed, order abandoned, ...)."""

    name: str


@dataclass(frozen=True)
class RequestHandoff(Effect):
    """Put this conversation on the operators' waiting list (oldest first); the bot goes quiet."""

    identity: str  # "<channel>:<address>" where the customer wrote from: where a person's reply goes
    phone: str | None
    name: str | None
    text: str  # what the customer said when asking, for the operator's list


@dataclass(frozen=True)
class EndHandoff(Effect):
    """Take this conversation off the waiting list (handed back, or the customer started over)."""

    identity: str
    phone: str | None


# -- messages the shop sends first (statemachine/outreach.py) ----------------------------------

@dataclass(frozen=True)
class WaitForRestock(Effect):
    """Tell this customer (on `identity`) once when `sku` is back in stock."""

    phone: str
    sku: str
    identity: str


@dataclass(frozen=True)
class SetReminders(Effect):
    """The customer said 'stop reminders' (False) or 'start reminders' (True)."""

    phone: str
    on: bool


@dataclass(frozen=True)
class RecordFeedback(Effect):
    """A 1-5 rating (and a comment) for a delivered order, stored with the order."""

    order_id: str
    phone: str
    rating: int
    comment: str = ""


@dataclass(frozen=True)
class Later(Effect):
    """Send this control message again after `seconds` (the customer was busy)."""

    message: str  # the control message's kind (statemachine/outreach.py)
    seconds: int
    meta: dict = field(default_factory=dict)
