"""The offline understanding backend: keywords for intents, the catalog's own words for items.

No network and no model, so it answers in about a millisecond and is what the conversation falls
back on whenever Gemini is absent or failing. When unsure it asks (Ambiguous) or refuses (Invalid,
Unknown) rather than guess: a wrong product in a cart costs more than one more question. This
module decides what kind of line it is; the items are read by item_reader.py (the line cut into
items by item_segments.py), questions by questions.py.
"""
from __future__ import annotations

from bot.nlu import intents, name_address
from bot.nlu.faq_source import FaqSource
from bot.nlu.item_reader import ItemReader
from bot.nlu.language import foreign_language
from bot.nlu.matching import CatalogIndex
from bot.nlu.questions import QuestionReader, asks_about_the_shop
from bot.nlu.types import NluContext, NluResult
from bot.shop.catalog import Catalog

NO_ITEM_STATES = frozenset({"verify", "register", "address"})  # lines there are names, addresses and codes
# what a line may still mean where a name or an address is asked for (anything else is the answer)
DETAIL_COMMANDS = frozenset({"menu", "help", "cancel", "restart", "human", "greeting", "yes", "no"})


class OfflineParser:
    """Understands a customer's line against one catalog; build once per catalog snapshot."""

    def __init__(self, catalog: Catalog, max_quantity: int = 50, faq_source: FaqSource | None = None,
                 address_check: str = "strict"):
        self.catalog = catalog
        self.address_check = address_check  # ADDRESS_CHECK: strict | lenient
        self.index = CatalogIndex(catalog)
        self.item_reader = ItemReader(self.index, max_quantity)
        self.questions = QuestionReader(self.index, lambda line: self.items(line, NluContext(state="order")),
                                        faq_source or FaqSource())

    def understand(self, text: str, ctx: NluContext) -> NluResult:
        result = self._read(text, ctx)
        if result.intent in ("unknown", "question") and not (result.items or result.ambiguous or result.invalid) \
                and not result.asked and ctx.state not in NO_ITEM_STATES and ctx.step not in name_address.DETAIL_STEPS \
                and (language := foreign_language(text)):
            return NluResult(intent="other_language", language=language)  # said so, politely, in English
        return result

    def _read(self, text: str, ctx: NluContext) -> NluResult:
        line = intents.clean(text)
        if not line:
            return NluResult(intent="unknown")
        if ctx.step in name_address.DETAIL_STEPS:
            return self._details(text, line, ctx.step)
        quick = self._quick(text, line, ctx)
        if quick is not None:
            return quick
        if intents.is_injection(line):
            return NluResult(intent="unknown")
        if intents.is_question(line) or asks_about_the_shop(line):
            return self.questions.read(line)
        return self._free_text(text, line, ctx)

    def _quick(self, text: str, line: str, ctx: NluContext) -> NluResult | None:
        """Digits and fixed phrases: a code, a phone number, a bare number, a command."""
        if ctx.state == "verify" and ctx.step == "code" and (c := intents.code(text)):
            return NluResult(intent="code", code=c)
        if p := intents.phone(text):
            return NluResult(intent="phone", phone=p)
        if (n := intents.choice(line)) is not None:
            return NluResult(intent="choice", choice=n)
        if c := intents.code(text):  # six spaced digits outside the code step: just a number
            return NluResult(intent="choice", choice=int(c))
        if name := intents.command(line):
            return self._command(name, text)
        return None

    def _command(self, name: str, text: str) -> NluResult:
        """A command; "change my address to 5 Oak Road" carries the new address along."""
        value = name_address.value_after(text) if name in ("change_name", "change_address") else None
        if value and name == "change_name":
            return NluResult(intent=name, name=name_address.read_name(value))
        if value:
            return NluResult(intent=name, address=name_address.read_address(value, self.address_check))
        return NluResult(intent=name)

    def _details(self, text: str, line: str, step: str) -> NluResult:
        """Where a name or an address is asked for, the line is that answer unless it is a global word."""
        command = intents.command(line)
        if command in DETAIL_COMMANDS:
            return NluResult(intent=command)
        if step == "name":
            name = name_address.read_name(text)
            return NluResult(intent="name" if name else "unknown", name=name)
        address = name_address.read_address(text, self.address_check)
        return NluResult(intent="address" if address else "unknown", address=address)

    def _free_text(self, text: str, line: str, ctx: NluContext) -> NluResult:
        """Items, and what is left when there are none: a command after a greeting, yes/no, "order"."""
        typed = intents.without_greeting(text)
        rest = intents.clean(typed)
        found, insisted = NluResult(intent="unknown"), False
        if ctx.state not in NO_ITEM_STATES:
            found, insisted = self.item_reader.read(typed, ctx)
            if found.items or found.ambiguous or found.invalid:
                found.intent = "add_items"
                return found
        if rest != line and rest and (name := intents.command(rest)):
            return NluResult(intent=name)
        if insisted or (found.unknown and ctx.state == "order"):  # "no kiwi": kiwi is missing, not "no"
            return found
        answer = intents.leading_answer(line)
        if answer and ctx.state == "confirm":  # "yes, place the order"
            return NluResult(intent=answer)
        if intents.wants_to_order(line):
            return NluResult(intent="order")
        if answer:
            return NluResult(intent=answer)
        if rest != line:
            return NluResult(intent="greeting")
        return found

    def items(self, line: str, ctx: NluContext) -> NluResult:
        """Products, amounts and actions in `line`; intent left "unknown" for the caller to set."""
        return self.item_reader.read(line, ctx)[0]
