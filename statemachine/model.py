"""The conversation: what the bot remembers about one customer between messages, and one turn's inputs.

`Conversation` is the `transitions` model (the shared Machine adds it for one turn and removes it).
Only its dataclass fields are persisted; the per-turn outbox lives beside them and is never saved.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypedDict

from statemachine.effects import Effect
from statemachine.inputs import Catalog, Reading
from statemachine.replies import Reply
from statemachine.rules import ShopRules

SCHEMA_VERSION = 1
HISTORY_TURNS = 6  # lines kept for context (the language model's prompt); not the full history


class CartLine(TypedDict):
    sku: str
    quantity: float  # in the product's unit; a whole number is stored as an int


@dataclass
class Conversation:
    """One customer's conversation.

    The moves (`conv.shop()`, `conv.checkout(prompt=False)`, ...) are methods the shared Machine binds
    on the instance while it is attached (machine.attached), one per trigger of machine.TRANSITIONS,
    and removes after the turn. They are declared below for the type checker only (under
    TYPE_CHECKING): a real method of that name would stop transitions binding its trigger (it skips,
    with a warning, a name the model already has). So each call is checked for its name and its one
    keyword, `prompt` (False: the state's entry callback says nothing, the caller speaks). A move
    returns True; one from a state its trigger does not leave raises transitions.MachineError. A
    trigger added to TRANSITIONS needs its line here before code can call it; a line here with no
    trigger behind it fails at its first call (AttributeError).
    """

    state: str = "greeting"
    step: str | None = None
    phone: str | None = None  # verified E.164 phone: the customer's identity
    name: str | None = None
    address: str | None = None
    customer_id: str | None = None
    cart: list[CartLine] = field(default_factory=list)  # in the order added
    chosen: dict[str, Any] = field(default_factory=dict)  # checkout's choices and findings: "slot", "payment", "short"
    pending: dict[str, Any] = field(default_factory=dict)  # the current step's data (a code, a question, a choice)
    history: list[list[str]] = field(default_factory=list)  # [speaker, text], newest last
    salt: str = ""  # hashes one-time codes; set once per conversation
    started_at: float = 0.0
    updated_at: float = 0.0
    turns: int = 0
    ordered: bool = False  # an order was placed since this conversation started (counted completed once)
    reminded: bool = False  # this cart was reminded of (never twice); cleared when the cart empties
    feedback: dict[str, Any] | None = None  # {"order_id", "number", "asked_at"}: a rating was just asked for
    out_of_stock: list[str] = field(default_factory=list)  # skus this turn said were out of stock
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        self._outbox: list[Reply] = []
        self._effects: list[Effect] = []
        self.turn: Turn | None = None  # set by advance and resolve before any trigger fires
        self.forgotten = False  # set by "delete my data": this turn must leave no trace

    if TYPE_CHECKING:  # bound by the Machine while attached: see the class docstring
        def need_phone(self, *, prompt: bool = True) -> bool: ...
        def new_customer(self, *, prompt: bool = True) -> bool: ...
        def known_customer(self, *, prompt: bool = True) -> bool: ...
        def shop(self, *, prompt: bool = True) -> bool: ...
        def ask_address(self, *, prompt: bool = True) -> bool: ...
        def ask_substitute(self, *, prompt: bool = True) -> bool: ...
        def ask_slot(self, *, prompt: bool = True) -> bool: ...
        def ask_payment(self, *, prompt: bool = True) -> bool: ...
        def checkout(self, *, prompt: bool = True) -> bool: ...
        def placed(self, *, prompt: bool = True) -> bool: ...
        def start_cancel(self, *, prompt: bool = True) -> bool: ...
        def start_delete(self, *, prompt: bool = True) -> bool: ...
        def to_menu(self, *, prompt: bool = True) -> bool: ...
        def erased(self, *, prompt: bool = True) -> bool: ...
        def stop(self, *, prompt: bool = True) -> bool: ...
        def ask_person(self, *, prompt: bool = True) -> bool: ...
        def handback(self, *, prompt: bool = True) -> bool: ...
        def restart(self, *, prompt: bool = True) -> bool: ...

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Conversation:
        if d.get("version") != SCHEMA_VERSION:
            raise ValueError(f"conversation schema {d.get('version')!r}, expected {SCHEMA_VERSION}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def registered(self) -> bool:
        return self.customer_id is not None

    def customer_phone(self) -> str:
        """The verified phone, where only an identified customer can be (register, menu, checkout, cancel,
        delete; a registered customer anywhere): a conversation there without one is a bug, raised here
        rather than sent on to the store as a missing phone."""
        if self.phone is None:
            raise RuntimeError(f"no verified phone in state {self.state!r}")
        return self.phone

    # -- the turn's outbox: handlers and entry callbacks write here; advance and resolve drain it
    #    into their Outcome --------------------------------------------------------------------
    def say(self, text: str, *, buttons: Sequence[str] = (), request_phone: bool = False,
            options: Sequence[str] = ()) -> None:
        self._outbox.append(Reply(text, tuple(buttons), request_phone, tuple(options)))

    def do(self, effect: Effect) -> None:
        self._effects.append(effect)

    def drain(self) -> tuple[list[Reply], list[Effect]]:
        replies, effects = self._outbox, self._effects
        self._outbox, self._effects = [], []
        return replies, effects


@dataclass
class Deps:
    """Read-only collaborators a turn may consult: the catalog, and plain callables. None writes anything."""

    catalog: Catalog  # .get(sku) -> the product or None; iterating gives every product
    find_customer: Callable[[str], dict[str, Any] | None] = lambda phone: None  # {"id", "name", "address", "reminders"}
    recent_orders: Callable[[str], list[dict[str, Any]]] = lambda phone: []  # newest first
    verification_lock: Callable[[str], int] = lambda phone: 0  # seconds left, 0 = not locked
    normalize_phone: Callable[[str], str | None] = lambda raw: raw if raw.startswith("+") else None
    new_code: Callable[[], str] = lambda: "000000"
    new_salt: Callable[[], str] = lambda: "salt"
    saved_cart: Callable[[str], list[CartLine]] = lambda phone: []  # the cart this phone left on another channel
    slot_booked: Callable[[list[str]], dict[str, int]] = lambda ids: {}  # slot id -> deliveries booked
    last_order: Callable[[str], dict[str, Any] | None] = lambda phone: None  # {"number", "lines": [{sku, quantity}]}
    placed: Callable[[str], bool] = lambda key: False  # an order exists for this key (placed or refused)


@dataclass
class Limits:
    """The shop's settings a conversation needs."""

    shop_name: str = "Orderline Grocery"
    currency: str = "USD"
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_lock_seconds: int = 1800
    # how typed numbers are proven: "local" (hashed here), "provider" (it checks), "" (they can't be)
    codes: str = "local"
    verify_ways: tuple[str, ...] = ()  # with no codes: how this shop learns a number ("telegram", "whatsapp")
    code_countries: tuple[str, ...] = ("US",)  # where codes may go (the shop's region first)
    max_quantity: int = 50
    shop: ShopRules = field(default_factory=ShopRules)  # fees, minimum, areas, hours, slots, payment


@dataclass
class Turn:
    """One customer message, understood, with everything the conversation may consult."""

    text: str
    nlu: Reading  # bot.nlu.types.NluResult, as the conversation reads it (statemachine/inputs.py)
    now: float
    deps: Deps
    limits: Limits = field(default_factory=Limits)
    channel: str = "api"
    message_id: str = ""
    identity: str = ""  # "<channel>:<address>", who is writing
    contact: str | None = None  # E.164 phone the channel vouches for, if any
    caller_id: str | None = None  # a number the channel reports but cannot vouch for (a call's caller ID)
    kind: str = "text"  # text | media | location | contact | unsupported
    meta: dict[str, Any] = field(default_factory=dict)  # a control message's data (the order, the product...)


@dataclass
class Outcome:
    replies: list[Reply]
    effects: list[Effect]
    state: str
