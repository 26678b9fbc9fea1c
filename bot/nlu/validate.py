"""What of a model reading to believe, checked against the catalog and the FAQ the prompt held.

Items: a sku must exist AND have been offered in the prompt; a product named without a sku is
looked up in the catalog index (one product, a question, or "we don't have it"); quantities go
through the offline parser's own rules (positive, at most max_quantity, whole units for counted
goods, convertible units). Any refused item makes the reading unusable: the offline parser's
reading is used for the turn. An answer is kept only when it cites offered products or FAQ
topics, every number in it appears in what it cites (so no invented price, stock or hours), and
it does not echo the instructions; otherwise only the answer is dropped.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bot.nlu.matching import CatalogIndex
from bot.nlu.numbers import UNIT_WORDS, Amount
from bot.nlu.prompt import READING_INSTRUCTION, REPLY_TRANSLATION_RULES, TRANSLATION_INSTRUCTION, ReadingPrompt
from bot.nlu.quantities import measure
from bot.nlu.schema import ModelItem, ModelReading
from bot.nlu.typed_words import keys_of
from bot.nlu.types import Action, Ambiguous, ItemRequest, NluContext, NluResult, Unknown
from bot.shop.catalog import Catalog, Product

MAX_ANSWER = 600
MAX_ITEMS = 20
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LANGUAGE = re.compile(r"[a-z]{2}")


@dataclass
class Checked:
    result: NluResult | None  # None: unusable, use the offline reading
    problems: list[str] = field(default_factory=list)  # one name per refused part, for nlu_invalid:<name>
    language: str = "en"


def numbers_in(text: str) -> set[Decimal]:
    """Every number written in `text`, as values ("4.39", "4,39" and "$20.00" vs "20" compare equal)."""
    out = set()
    for raw in _NUMBER.findall(text):
        for candidate in (raw.replace(",", ""), raw.replace(",", ".")):
            try:
                out.add(Decimal(candidate).normalize())
            except InvalidOperation:
                continue
    return out


def shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


_INSTRUCTIONS = shingles(READING_INSTRUCTION) | shingles(REPLY_TRANSLATION_RULES) | shingles(TRANSLATION_INSTRUCTION)


class ReadingCheck:
    """Checks model readings against one catalog snapshot and the FAQ the prompt held."""

    def __init__(self, catalog: Catalog, index: CatalogIndex, faq: list[dict]):
        self.catalog, self.index = catalog, index
        self.faq = {f["topic"]: f for f in faq}

    def check(self, reading: ModelReading, prompt: ReadingPrompt, ctx: NluContext) -> Checked:
        """What of the reading to believe. Nothing (the offline reading is used) when an item is
        refused, the items and the intent disagree, or a choice is out of range; a language code
        that is not one only becomes English, and an ungrounded answer is only dropped."""
        language, problems = _language(reading)
        result = NluResult(intent=reading.intent, language=language, source="gemini")
        refused = self._read_items(reading, prompt, ctx, result)
        if refused:
            return Checked(None, problems + refused, language)
        if _items_lost(reading, result):
            return Checked(None, problems + ["no_items"], language)
        if _has_items(result) and result.intent != "question":
            result.intent = "add_items"  # "I'd like to order 2 apples": the items are what matters
        if result.intent == "choice":
            if reading.choice is None or not 0 <= reading.choice <= 99:
                return Checked(None, problems + ["choice"], language)
            result.choice = reading.choice
        if reading.answer and result.intent == "question":
            result.answer = self._grounded(reading.answer.strip(), reading, prompt, problems)
        return Checked(result, problems, language)

    # -- items ------------------------------------------------------------------------------------

    def _read_items(self, reading: ModelReading, prompt: ReadingPrompt, ctx: NluContext,
                    result: NluResult) -> list[str]:
        """Each item into `result`; the problems of those refused (all of them past MAX_ITEMS)."""
        if len(reading.items) > MAX_ITEMS:
            return ["too_many_items"]
        return [p for p in (self._item(item, prompt, ctx, result) for item in reading.items) if p]

    def _item(self, item: ModelItem, prompt: ReadingPrompt, ctx: NluContext, result: NluResult) -> str | None:
        """One item into `result` (a cart item, a question which product, or a name not found), or
        why it is refused: its unit, its product, or its quantity, checked in that order."""
        unit, known = _unit(item.unit)
        if not known:
            return "unit"
        products, problem = self._products(item, prompt, result)
        if problem or not products:
            return problem
        product = products[0]
        measured = _quantity(item, unit, product, ctx.max_quantity)
        if measured is None:
            return "quantity"
        quantity, count = measured
        action: Action = "remove" if item.action == "set" and quantity == 0 else item.action
        if len(products) == 1:
            result.items.append(ItemRequest(product.sku, quantity, product.unit, action, count))
        else:
            skus = [p.sku for p in products][:5]
            result.ambiguous.append(Ambiguous(item.name.strip()[:80], skus, quantity, product.unit, action))
        return None

    def _products(self, item: ModelItem, prompt: ReadingPrompt, result: NluResult) -> tuple[list[Product], str | None]:
        """The products the item means: its sku, which must exist and have been offered in the
        prompt, or those its name reaches in the catalog. A name reaching none is put in `result`
        as not found (no products, no problem)."""
        if item.sku:
            product = self.catalog.get(item.sku)
            if product is None:
                return [], "unknown_sku"
            if item.sku not in prompt.offered:
                return [], "sku_not_offered"
            return [product], None
        keys = keys_of(item.name or "")
        if not keys:
            return [], "no_product"
        resolution = self.index.resolve(keys)
        if not resolution.skus:
            result.unknown.append(Unknown(item.name.strip()[:80], resolution.suggestions[:3]))
            return [], None
        return [p for p in map(self.catalog.get, resolution.skus) if p], None

    # -- answers ------------------------------------------------------------------------------------

    def _grounded(self, answer: str, reading: ModelReading, prompt: ReadingPrompt, problems: list[str]) -> str | None:
        """The answer when it can be passed on; otherwise None, with why in `problems`."""
        why = self._ungrounded(answer, reading, prompt)
        if why:
            problems.append(why)
            return None
        return answer

    def _ungrounded(self, answer: str, reading: ModelReading, prompt: ReadingPrompt) -> str | None:
        """Why the answer cannot be passed on (a nlu_invalid:<name>), or None when it is grounded."""
        if len(answer) > MAX_ANSWER:
            return "answer_too_long"
        if shingles(answer) & _INSTRUCTIONS:
            return "answer_leak"
        cited_skus = [s for s in dict.fromkeys(reading.cited_skus) if s]
        cited_faq = [t for t in dict.fromkeys(reading.cited_faq) if t]
        if not cited_skus and not cited_faq:
            return "answer_uncited"
        if self._bad_citation(cited_skus, cited_faq, prompt):
            return "answer_bad_citation"
        if not numbers_in(answer) <= numbers_in(self._facts(cited_skus, cited_faq)):
            return "answer_number"  # a price, amount or time that the cited facts do not state
        return None

    def _bad_citation(self, cited_skus: list[str], cited_faq: list[str], prompt: ReadingPrompt) -> bool:
        """A cited product or FAQ topic that does not exist, or that the prompt did not show."""
        return any(s not in self.catalog or s not in prompt.offered for s in cited_skus) or \
            any(t not in self.faq or t not in prompt.faq_topics for t in cited_faq)

    def _facts(self, cited_skus: list[str], cited_faq: list[str]) -> str:
        """What the cited entries state: the products' names, descriptions and prices, the FAQ answers."""
        facts: list[str] = []
        for p in map(self.catalog.get, cited_skus):
            if p is not None:
                facts += [p.name, p.description, f"{p.price_cents / 100:.2f}"]
        facts += [self.faq[t]["answer"] for t in cited_faq]
        return " ".join(facts)


def _language(reading: ModelReading) -> tuple[str, list[str]]:
    """The reading's language as an ISO 639-1 code; English, and the problem "language", when the
    model wrote something else."""
    language = reading.language.strip().lower()[:2] if reading.language else "en"
    if not _LANGUAGE.fullmatch(language):
        return "en", ["language"]
    return language, []


def _has_items(result: NluResult) -> bool:
    return bool(result.items or result.ambiguous or result.unknown)


def _items_lost(reading: ModelReading, result: NluResult) -> bool:
    """The reading contradicts itself: items given and none read, or add_items and no items given."""
    return (bool(reading.items) and not _has_items(result)) or (result.intent == "add_items" and not reading.items)


def _unit(said: str | None) -> tuple[str | None, bool]:
    """The unit the model wrote, as the offline parser's (None: none said), and whether it is one."""
    if not said or not said.strip():
        return None, True
    unit = UNIT_WORDS.get(said.strip().lower().rstrip("."))
    return unit, unit is not None


def _quantity(item: ModelItem, unit: str | None, product: Product,
              max_quantity: float) -> tuple[float, float | None] | None:
    """The item's quantity in the product's unit and the pieces counted, by the offline parser's
    rules; a removal takes the whole line (0). None when the quantity is refused."""
    if item.action == "remove":
        return 0, None
    if not math.isfinite(item.quantity):
        return None
    m = measure(Amount(float(item.quantity), unit), product, item.action, max_quantity)
    if m.problem or m.quantity is None:
        return None
    return m.quantity, m.count
