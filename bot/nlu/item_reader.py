"""The items of a customer's line, offline: each segment's names found in the catalog, with its
amount and action, as items, questions (Ambiguous), refusals (Invalid) or names not found (Unknown).

When unsure it asks or refuses rather than guess: a wrong product in a cart costs more than one
more question. Every loop here is bounded (tokens read, requests, names looked up with spelling
correction, names reported), so a hostile line costs no more than a long honest one.
"""
from __future__ import annotations

from bot.nlu.item_segments import Segment, Segmenter
from bot.nlu.matching import CatalogIndex, Resolution
from bot.nlu.numbers import Amount
from bot.nlu.quantities import Measured, in_unit, measure
from bot.nlu.typed_words import Token, show, tokenize
from bot.nlu.types import Action, Ambiguous, Invalid, ItemRequest, NluContext, NluResult, Refusal, Unknown
from bot.shop.catalog import Product

MAX_CANDIDATES = 5
MAX_REQUESTS = 20  # items, questions and refusals read from one line; the rest is counted in `more`
MAX_UNKNOWN = 5  # names reported as not found in one line (a line of junk is not 800 apologies)
MAX_SHOWN = 60  # characters of what the customer typed, quoted back
MAX_TOKENS = 400  # words and marks read for items from one line (about 20 items' worth, and then some)
MAX_FUZZY_MISSES = 20  # unknown names per line looked up with spelling correction; after that, as typed
MAX_SPLIT_WORDS = 6  # names typed without separators ("apples bananas") are looked for in runs this long at most

Found = tuple[str, Resolution]  # a name as typed, and the products it reaches


class ItemReader:
    """Reads the items of lines against one catalog; build once per catalog snapshot."""

    def __init__(self, index: CatalogIndex, max_quantity: int = 50):
        self.index = index
        self.max_quantity = max_quantity
        self.segmenter = Segmenter(index)

    def read(self, line: str, ctx: NluContext) -> tuple[NluResult, bool]:
        """The items (intent left "unknown" for the caller to set), and whether an unknown name came
        with a number or an action word ("no kiwi": the customer insists on a product)."""
        items = _LineItems(self.index, ctx.max_quantity or self.max_quantity, report=ctx.state == "order")
        tokens = tokenize(line, MAX_TOKENS + 1)
        if len(tokens) > MAX_TOKENS:  # a length bound before any work: the rest is said to be unread
            tokens, items.result.more = tokens[:MAX_TOKENS], 1
        for seg in self.segmenter.split(tokens):
            items.read(seg)
        return items.result, items.insisted


class _LineItems:
    """The items of one line, read segment by segment. The action carries from one segment to the
    next ("remove the milk and the eggs"); `report` says whether a name found nowhere is worth
    saying so without a number or an action word (in the cart, yes; on the menu, it is noise)."""

    def __init__(self, index: CatalogIndex, max_quantity: float, report: bool):
        self.index, self.catalog = index, index.catalog
        self.max_quantity, self.report = max_quantity, report
        self.result = NluResult(intent="unknown")
        self.insisted = False
        self.action: Action = "add"
        self.carried_amount = False  # the segment before had an amount of its own
        self.misses = 0  # names not found so far in this line

    def read(self, seg: Segment) -> None:
        """One segment: past the line's limit it is only counted; otherwise its action is decided
        and its names become items, refusals or unknowns."""
        if not seg.has_words and not seg.unit_token:
            return
        if _full(self.result):
            self.result.more += 1
            return
        self.action = self._action_of(seg)
        self.carried_amount = seg.amount is not None and seg.amount.explicit
        before = len(self.result.unknown)
        self._resolve(seg)
        self.insisted |= len(self.result.unknown) > before and (self.carried_amount or seg.action is not None)

    def _action_of(self, seg: Segment) -> Action:
        """The segment's own action word; else "add" when it says so ("plus"), when the line is adding,
        or when it brings an amount after a segment without one ("remove the milk, 2 eggs"); else
        the action of the segment before ("remove the milk and the eggs")."""
        if seg.action:
            return seg.action
        explicit = seg.amount is not None and seg.amount.explicit
        if seg.adds or self.action == "add" or (explicit and not self.carried_amount):
            return "add"
        return self.action

    def _resolve(self, seg: Segment) -> None:
        """Add the segment's items (or refusals, or questions) to the result; the names found
        nowhere become one Unknown, when worth reporting."""
        found, missed = self._names(seg)
        if not found and seg.unit_token is not None:
            found = self._unit_as_name(seg.unit_token)
        self.result.fuzzy |= any(res.corrected for _, res in found)
        self._add_all(seg, found)
        if not found and missed:
            self._report_unknown(seg, missed)

    def _names(self, seg: Segment) -> tuple[list[Found], list[list[Token]]]:
        """What the segment's names reach (names kept whole first, then each run of words), and the
        runs that reach nothing. `misses` counts those for the line: past a few, a line of junk gets
        no more spelling corrections (each costs a scan of the catalog's words)."""
        found = [(text, Resolution(self.index.exact(keys), exact=True)) for text, keys in seg.literals]
        missed: list[list[Token]] = []
        for run in filter(None, seg.runs):
            reached = self._run_names(run)
            if reached:
                found.extend(reached)
            else:
                missed.append(run)
                self.misses += 1
        return [f for f in found if f[1].skus], missed

    def _run_names(self, run: list[Token]) -> list[Found]:
        """One run of name words: one name ("oat milk"), names typed without separators ("apples
        bananas"), or nothing."""
        res = self.index.resolve([t.key for t in run], suggest=False, fuzzy=self.misses < MAX_FUZZY_MISSES)
        if res.skus:
            return [(show(run), res)]
        return self._split(run) if len(run) > 1 else []

    def _split(self, run: list[Token]) -> list[Found]:
        """Names typed without separators ("apples bananas"): accepted only if every piece is exact."""
        pieces, start = [], 0
        while start < len(run) and len(run) <= MAX_SPLIT_WORDS:
            for end in range(len(run), start, -1):
                res = self.index.resolve([t.key for t in run[start:end]], suggest=False)
                if res.exact and len(res.skus) == 1:
                    pieces.append((show(run[start:end]), res))
                    start = end
                    break
            else:
                return []
        return pieces

    def _unit_as_name(self, unit: Token) -> list[Found]:
        """"a loaf": with no other name, the unit word is the product when it names one exactly."""
        res = self.index.resolve([unit.key], suggest=False)
        return [(unit.text, res)] if res.exact else []

    def _add_all(self, seg: Segment, found: list[Found]) -> None:
        """One item per name found; the amount goes with the first ("2 apples pears": 2 apples, pears)."""
        for n, (text, res) in enumerate(found):
            if _full(self.result):  # "can of tomatoes can of tomatoes ...": one segment, many names
                self.result.more += 1
                break
            amount = seg.amount if n == 0 else None
            skus = res.skus
            if amount is not None and seg.unit_token is not None:  # "4 tins of tomatoes": the tinned ones
                skus = in_unit(self.index, res.skus, text, amount, seg.unit_token.low)
            self._add(seg.text or text, text, skus, amount, seg.counted)

    def _add(self, seg_text: str, name_text: str, skus: list[str], amount: Amount | None, counted: bool) -> None:
        """One item, a refusal, or a question. Candidates the amount does not fit are dropped
        ("a jar of pepper" leaves the jar), so an Ambiguous always carries a usable quantity."""
        checked = [(p, measure(amount, p, self.action, self.max_quantity, counted))
                   for p in map(self.catalog.get, skus) if p]
        fitting = [(p, m.quantity, m.count) for p, m in checked if m.problem is None and m.quantity is not None]
        if fitting:
            self._add_fitting(name_text, fitting)
        else:
            self._refuse(seg_text, checked)

    def _add_fitting(self, name_text: str, fitting: list[tuple[Product, float, float | None]]) -> None:
        """One product fits: an item; several: a question, with the first one's quantity and unit.
        Setting a quantity of 0 is a removal."""
        product, quantity, count = fitting[0]
        action: Action = "remove" if self.action == "set" and quantity == 0 else self.action
        if len(fitting) == 1:
            self.result.items.append(ItemRequest(product.sku, quantity, product.unit, action, count))
        else:
            skus = [p.sku for p, _, _ in fitting][:MAX_CANDIDATES]
            self.result.ambiguous.append(Ambiguous(_clip(name_text), skus, quantity, product.unit, action))

    def _refuse(self, seg_text: str, checked: list[tuple[Product, Measured]]) -> None:
        """No product fits the amount: refused for the first one's reason, naming the product when
        the name meant only one."""
        refused: list[tuple[Product, Refusal, float | None]] = [
            (p, m.problem, m.quantity) for p, m in checked if m.problem is not None]
        if refused:
            product, problem, quantity = refused[0]
            sku = product.sku if len(refused) == 1 else None
            self.result.invalid.append(Invalid(_clip(seg_text), problem, sku, quantity))

    def _report_unknown(self, seg: Segment, missed: list[list[Token]]) -> None:
        """The names found nowhere, as one Unknown with close products as suggestions. Only for the
        line's first few misses (suggestions scan the catalog), and without a number or an action
        word only where the customer is filling the cart, or when there is something to suggest."""
        if self.misses - len(missed) >= MAX_UNKNOWN or len(self.result.unknown) >= MAX_UNKNOWN:
            return
        suggestions = [s for run in missed[:MAX_UNKNOWN] for s in self.index.resolve([t.key for t in run]).suggestions]
        suggestions = list(dict.fromkeys(suggestions))[:MAX_CANDIDATES]
        if self.report or suggestions or seg.amount is not None or seg.action:
            self.result.unknown.append(Unknown(_clip(" ".join(show(run) for run in missed)), suggestions))


def _full(result: NluResult) -> bool:
    return len(result.items) + len(result.ambiguous) + len(result.invalid) >= MAX_REQUESTS


def _clip(text: str) -> str:
    """What the customer typed, short enough to quote back in a reply."""
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1].rstrip() + "…"
