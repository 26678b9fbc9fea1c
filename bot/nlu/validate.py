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
from bot.nlu.schema import ModelReading
from bot.nlu.typed_words import keys_of
from bot.nlu.types import Ambiguous, ItemRequest, NluContext, NluResult, Unknown
from bot.shop.catalog import Catalog

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
        problems: list[str] = []
        language = reading.language.strip().lower()[:2] if reading.language else "en"
        if not _LANGUAGE.fullmatch(language):
            problems.append("language")
            language = "en"
        result = NluResult(intent=reading.intent, language=language, source="gemini")
        if len(reading.items) > MAX_ITEMS:
            return Checked(None, problems + ["too_many_items"], language)
        for item in reading.items:
            problem = self._item(item, prompt, ctx, result)
            if problem:
                problems.append(problem)
        if problems and any(p != "language" for p in problems):
            return Checked(None, problems, language)
        if reading.items and not (result.items or result.ambiguous or result.unknown):
            return Checked(None, problems + ["no_items"], language)
        if result.intent == "add_items" and not reading.items:
            return Checked(None, problems + ["no_items"], language)
        if (result.items or result.ambiguous or result.unknown) and result.intent != "question":
            result.intent = "add_items"  # "I'd like to order 2 apples": the items are what matters
        if result.intent == "choice":
            if reading.choice is None or not 0 <= reading.choice <= 99:
                return Checked(None, problems + ["choice"], language)
            result.choice = reading.choice
        if reading.answer and result.intent == "question":
            why = self._ungrounded(reading, prompt)
            if why:
                problems.append(why)
            else:
                result.answer = reading.answer.strip()
        return Checked(result, problems, language)

    # -- items ------------------------------------------------------------------------------------

    def _item(self, item, prompt: ReadingPrompt, ctx: NluContext, result: NluResult) -> str | None:
        action = item.action
        unit = None
        if item.unit and item.unit.strip():
            unit = UNIT_WORDS.get(item.unit.strip().lower().rstrip("."))
            if unit is None:
                return "unit"
        if item.sku:
            if item.sku not in self.catalog:
                return "unknown_sku"
            if item.sku not in prompt.offered:
                return "sku_not_offered"
            skus = [item.sku]
        else:
            keys = keys_of(item.name or "")
            if not keys:
                return "no_product"
            resolution = self.index.resolve(keys)
            if not resolution.skus:
                result.unknown.append(Unknown(item.name.strip()[:80], resolution.suggestions[:3]))
                return None
            skus = resolution.skus
        product = self.catalog.get(skus[0])
        count = None
        if action == "remove":
            quantity, problem = 0, None
        elif not math.isfinite(item.quantity):
            return "quantity"
        else:
            m = measure(Amount(float(item.quantity), unit), product, action, ctx.max_quantity)
            quantity, problem, count = m.quantity, m.problem, m.count
        if problem:
            return "quantity"
        if action == "set" and quantity == 0:
            action = "remove"
        if len(skus) == 1:
            result.items.append(ItemRequest(product.sku, quantity, product.unit, action, count))
        else:
            result.ambiguous.append(Ambiguous(item.name.strip()[:80], skus[:5], quantity, product.unit, action))
        return None

    # -- answers ------------------------------------------------------------------------------------

    def _ungrounded(self, reading: ModelReading, prompt: ReadingPrompt) -> str | None:
        """Why the answer cannot be passed on (a nlu_invalid:<name>), or None when it is grounded."""
        answer = reading.answer.strip()
        if len(answer) > MAX_ANSWER:
            return "answer_too_long"
        if shingles(answer) & _INSTRUCTIONS:
            return "answer_leak"
        cited_skus = [s for s in dict.fromkeys(reading.cited_skus) if s]
        cited_faq = [t for t in dict.fromkeys(reading.cited_faq) if t]
        if not cited_skus and not cited_faq:
            return "answer_uncited"
        if any(s not in self.catalog or s not in prompt.offered for s in cited_skus) or \
                any(t not in self.faq or t not in prompt.faq_topics for t in cited_faq):
            return "answer_bad_citation"
        facts = []
        for sku in cited_skus:
            p = self.catalog.get(sku)
            facts += [p.name, p.description, f"{p.price_cents / 100:.2f}"]
        facts += [self.faq[t]["answer"] for t in cited_faq]
        if not numbers_in(answer) <= numbers_in(" ".join(facts)):
            return "answer_number"  # a price, amount or time that the cited facts do not state
        return None
