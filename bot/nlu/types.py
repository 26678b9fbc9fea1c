"""What understanding a customer's line produces: one structured, JSON-safe result.

Every backend (the offline parser, Gemini) returns this shape, and the state machine reads only
this shape, so backends can be swapped without the conversation noticing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal, Protocol

# Intents, by what the customer means:
#   greeting        hello / hi / start
#   order           wants to start ordering ("I'd like to order")
#   add_items       items to add / remove / set (see ItemRequest.action)
#   show_cart       what's in my cart
#   clear_cart      empty my cart
#   checkout        done / checkout / that's all
#   yes, no         answers to a question
#   choice          a bare number picking from a numbered list (see NluResult.choice)
#   menu, help, cancel, restart     the global words
#   status          where is my order
#   cancel_order    cancel an order I placed
#   delete_data     delete my data
#   human           talk to a person
#   phone           a phone number was typed (see NluResult.phone)
#   code            a one-time code was typed (see NluResult.code)
#   question        a question about products / the shop (answer or asked may be filled)
#   change_name, change_address     the customer wants to change their name / delivery address
#                   (NluResult.name / address hold the new one when the line gave it)
#   name, address   where a name or an address was asked for, the line gave one (NluResult.name / address)
#   other_language  a line the offline parser cannot read because it is not English (see language)
#   unknown         none of the above
INTENTS = (
    "greeting", "order", "add_items", "show_cart", "clear_cart", "checkout", "yes", "no", "choice",
    "menu", "help", "cancel", "restart", "status", "cancel_order", "delete_data", "human",
    "phone", "code", "question", "other_language", "unknown", "change_name", "change_address", "name", "address",
)

Action = Literal["add", "remove", "set"]
# why a product request is refused: zero | negative | too_large | too_small (below the product's smallest)
# | unit (not sold that way) | count (pieces of a by-weight product whose piece weight the catalog does not give)
Refusal = Literal["zero", "negative", "too_large", "too_small", "unit", "count"]


@dataclass(slots=True)
class ItemRequest:
    """One catalog product the customer asked about, quantity in the product's own unit."""

    sku: str
    quantity: float = 1
    unit: str = "each"
    action: Action = "add"
    count: float | None = None  # pieces the customer counted of a by-weight product ("6 bananas" -> 1.2 kg)


@dataclass(slots=True)
class Unknown:
    """Words that looked like a product but matched none; suggestions are close skus."""

    text: str
    suggestions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Ambiguous:
    """A name matching several products equally well: the customer must pick one."""

    text: str
    candidates: list[str]
    quantity: float = 1
    unit: str = "each"
    action: Action = "add"


@dataclass(slots=True)
class Invalid:
    """A product request refused before it reaches the cart, and why."""

    text: str
    reason: Refusal
    sku: str | None = None
    quantity: float | None = None


def _fields(obj: ItemRequest | Unknown | Ambiguous | Invalid) -> dict:
    """A flat dataclass as a dict (its list fields copied one level), without asdict's recursion."""
    return {f.name: (list(v) if isinstance(v := getattr(obj, f.name), list) else v) for f in fields(obj)}


@dataclass(slots=True)
class NluResult:
    intent: str = "unknown"
    items: list[ItemRequest] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)
    choice: int | None = None
    phone: str | None = None  # as typed; verification normalises it to E.164
    code: str | None = None
    answer: str | None = None  # grounded answer to a product/shop question, if any (a FAQ answer, quoted)
    language: str = "en"  # ISO 639-1 of the customer's line; replies are put into it when not "en"
    source: str = "offline"  # offline | gemini
    # what a question asked about, for the conversation to answer from the catalog of the moment:
    # {"kind": price|stock|about|list|categories|missing|faq, "skus": [...], "title"?, "text"?, "topic"?}
    asked: dict | None = None
    fuzzy: bool = False  # a product was reached only by correcting a misspelt word
    name: str | None = None  # the name in "My name is Ana Lima" (where a name is asked for)
    address: str | None = None  # a line that looks like a delivery address (where one is asked for)
    more: int = 0  # parts of a long line not read for items (past item_reader.MAX_REQUESTS or MAX_TOKENS)
    # reply lines the reading's call already translated into `language` (protected line -> its
    # translation): this turn only, never saved or cached with the reading
    translated: dict = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict deep-copies recursively, and this runs on every turn
        return {
            "intent": self.intent, "items": [_fields(i) for i in self.items],
            "unknown": [_fields(u) for u in self.unknown], "ambiguous": [_fields(a) for a in self.ambiguous],
            "invalid": [_fields(i) for i in self.invalid], "choice": self.choice, "phone": self.phone,
            "code": self.code, "answer": self.answer, "language": self.language, "source": self.source,
            "asked": self.asked, "fuzzy": self.fuzzy, "name": self.name, "address": self.address, "more": self.more,
        }

    @classmethod
    def from_dict(cls, d: dict) -> NluResult:
        return cls(
            intent=d.get("intent", "unknown"),
            items=[ItemRequest(**i) for i in d.get("items", [])],
            unknown=[Unknown(**u) for u in d.get("unknown", [])],
            ambiguous=[Ambiguous(**a) for a in d.get("ambiguous", [])],
            invalid=[Invalid(**i) for i in d.get("invalid", [])],
            choice=d.get("choice"), phone=d.get("phone"), code=d.get("code"),
            answer=d.get("answer"), language=d.get("language", "en"), source=d.get("source", "offline"),
            asked=d.get("asked"), fuzzy=d.get("fuzzy", False), name=d.get("name"), address=d.get("address"),
            more=d.get("more", 0),
        )


@dataclass(slots=True)
class NluContext:
    """What a backend may know about the turn: the state, recent turns, and nothing private."""

    state: str = "greeting"
    step: str | None = None  # sub-step of the state, e.g. "code" while verify waits for a code
    history: list[tuple[str, str]] = field(default_factory=list)  # (speaker, text), oldest first
    customer_key: str = ""  # for per-customer caps; never sent to a model
    max_quantity: int = 50
    keep: tuple[str, ...] = ()  # the customer's name and address: held out of anything translated


class Understander(Protocol):
    def understand(self, text: str, ctx: NluContext) -> NluResult: ...
