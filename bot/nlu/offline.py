"""The offline understanding backend: keywords for intents, the catalog's own words for items.

No network and no model, so it answers in about a millisecond and is what the conversation falls
back on whenever Gemini is absent or failing. When unsure it asks (Ambiguous) or refuses (Invalid,
Unknown) rather than guess: a wrong product in a cart costs more than one more question.
"""
from __future__ import annotations

from bot.nlu import intents, name_address
from bot.nlu.faq_source import FaqSource
from bot.nlu.item_segments import Segment, Segmenter
from bot.nlu.language import foreign_language
from bot.nlu.matching import CatalogIndex, Resolution, Token, show, tokenize
from bot.nlu.numbers import Amount
from bot.nlu.quantities import in_unit, measure
from bot.nlu.questions import QuestionReader, asks_about_the_shop
from bot.nlu.types import Ambiguous, Invalid, ItemRequest, NluContext, NluResult, Unknown
from bot.shop.catalog import Catalog

NO_ITEM_STATES = frozenset({"verify", "register", "address"})  # lines there are names, addresses and codes
# what a line may still mean where a name or an address is asked for (anything else is the answer)
DETAIL_COMMANDS = frozenset({"menu", "help", "cancel", "restart", "human", "greeting", "yes", "no"})
MAX_CANDIDATES = 5
MAX_REQUESTS = 20  # items, questions and refusals read from one line; the rest is counted in `more`
MAX_UNKNOWN = 5  # names reported as not found in one line (a line of junk is not 800 apologies)
MAX_SHOWN = 60  # characters of what the customer typed, quoted back
MAX_TOKENS = 400  # words and marks read for items from one line (about 20 items' worth, and then some)
MAX_FUZZY_MISSES = 20  # unknown names per line looked up with spelling correction; after that, as typed


class OfflineParser:
    """Understands a customer's line against one catalog; build once per catalog snapshot."""

    def __init__(self, catalog: Catalog, max_quantity: int = 50, faq_source=None, address_check: str = "strict"):
        self.catalog = catalog
        self.max_quantity = max_quantity
        self.address_check = address_check  # ADDRESS_CHECK: strict | lenient
        self.index = CatalogIndex(catalog)
        self.questions = QuestionReader(self.index, lambda line: self.items(line, NluContext(state="order")),
                                        faq_source or FaqSource())
        self.segmenter = Segmenter(self.index)

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
            found, insisted = self._items(typed, ctx)
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

    # -- items ---------------------------------------------------------------------------------

    def items(self, line: str, ctx: NluContext) -> NluResult:
        """Products, amounts and actions in `line`; intent left "unknown" for the caller to set."""
        return self._items(line, ctx)[0]

    def _items(self, line: str, ctx: NluContext) -> tuple[NluResult, bool]:
        """The items, and whether an unknown name came with a number or an action word."""
        max_q = ctx.max_quantity or self.max_quantity
        result, insisted = NluResult(intent="unknown"), False
        action, carried_amount, misses = "add", False, [0]  # names not found so far in this line
        tokens = tokenize(line, MAX_TOKENS + 1)
        if len(tokens) > MAX_TOKENS:  # a length bound before any work: the rest is said to be unread
            tokens, result.more = tokens[:MAX_TOKENS], 1
        for seg in self.segmenter.split(tokens):
            if not seg.has_words and not seg.unit_token:
                continue
            if _full(result):
                result.more += 1
                continue
            if seg.action:
                action = seg.action
            elif seg.adds or action == "add" or (seg.amount is not None and seg.amount.explicit and not carried_amount):
                action = "add"
            carried_amount = seg.amount is not None and seg.amount.explicit
            before = len(result.unknown)
            self._resolve_segment(seg, action, max_q, result, report=ctx.state == "order", misses=misses)
            insisted |= len(result.unknown) > before and (carried_amount or seg.action is not None)
        return result, insisted

    def _resolve_segment(self, seg: Segment, action: str, max_q: float, result: NluResult, report: bool,
                         misses: list[int]) -> None:
        """Add the segment's items (or refusals, or questions) to `result`. `misses` counts the names
        not found in the line so far: past a few, a line of junk gets no more spelling corrections
        and suggestions (each costs a scan of the catalog's words)."""
        found = [(text, Resolution(self.index.exact(keys), exact=True)) for text, keys in seg.literals]
        missed: list[list[Token]] = []
        for run in filter(None, seg.runs):
            res = self.index.resolve([t.key for t in run], suggest=False, fuzzy=misses[0] < MAX_FUZZY_MISSES)
            pieces = self._split(run) if not res.skus and len(run) > 1 else []
            if res.skus:
                found.append((show(run), res))
            elif pieces:
                found.extend(pieces)
            else:
                missed.append(run)
                misses[0] += 1
        found = [f for f in found if f[1].skus]
        if not found and seg.unit_token is not None:  # "a loaf": the unit word is a name
            res = self.index.resolve([seg.unit_token.key], suggest=False)
            if res.exact:
                found.append((seg.unit_token.text, res))
        result.fuzzy |= any(res.corrected for _, res in found)
        for n, (text, res) in enumerate(found):
            if _full(result):  # "can of tomatoes can of tomatoes ...": one segment, many names
                result.more += 1
                break
            amount = seg.amount if n == 0 else None
            skus = in_unit(self.index, res.skus, text, amount, seg.unit_token.low) \
                if amount is not None and seg.unit_token else res.skus
            self._add(result, seg.text or text, text, skus, amount, action, max_q, seg.counted)
        if found or not missed or misses[0] - len(missed) >= MAX_UNKNOWN or len(result.unknown) >= MAX_UNKNOWN:
            return  # suggestions (a catalog scan each) only for the first few names not found
        suggestions = [s for run in missed[:MAX_UNKNOWN] for s in self.index.resolve([t.key for t in run]).suggestions]
        suggestions = list(dict.fromkeys(suggestions))[:MAX_CANDIDATES]
        if report or suggestions or seg.amount is not None or seg.action:
            result.unknown.append(Unknown(_clip(" ".join(show(run) for run in missed)), suggestions))

    def _split(self, run: list[Token]) -> list[tuple[str, Resolution]]:
        """Names typed without separators ("apples bananas"): accepted only if every piece is exact."""
        pieces, start = [], 0
        while start < len(run) and len(run) <= 6:
            for end in range(len(run), start, -1):
                res = self.index.resolve([t.key for t in run[start:end]], suggest=False)
                if res.exact and len(res.skus) == 1:
                    pieces.append((show(run[start:end]), res))
                    start = end
                    break
            else:
                return []
        return pieces

    def _add(self, result: NluResult, seg_text: str, name_text: str, skus: list[str], amount: Amount | None,
             action: str, max_q: float, counted: bool = False) -> None:
        """One item, a refusal, or a question. Candidates the amount does not fit are dropped
        ("a jar of pepper" leaves the jar), so an Ambiguous always carries a usable quantity."""
        checked = [(p, measure(amount, p, action, max_q, counted)) for p in map(self.catalog.get, skus) if p]
        fine = [(p, m) for p, m in checked if m.problem is None]
        if not fine:
            if checked:
                product, m = checked[0]
                sku = product.sku if len(checked) == 1 else None
                result.invalid.append(Invalid(_clip(seg_text), m.problem, sku, m.quantity))
            return
        product, m = fine[0]
        act = "remove" if action == "set" and m.quantity == 0 else action
        if len(fine) == 1:
            result.items.append(ItemRequest(product.sku, m.quantity, product.unit, act, m.count))
        else:
            skus = [p.sku for p, _ in fine][:MAX_CANDIDATES]
            result.ambiguous.append(Ambiguous(_clip(name_text), skus, m.quantity, product.unit, act))


def _full(result: NluResult) -> bool:
    return len(result.items) + len(result.ambiguous) + len(result.invalid) >= MAX_REQUESTS


def _clip(text: str) -> str:
    """What the customer typed, short enough to quote back in a reply."""
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1].rstrip() + "…"
