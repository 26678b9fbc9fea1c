"""Questions answered offline: what they ask about (a price, stock, a category, the catalog, a FAQ
topic), grounded in the catalog and the shop's FAQ, never guessed.

The result says what was asked (`NluResult.asked`, skus and a kind); the conversation words the
answer from the catalog of the moment. A FAQ answer is quoted as the shop wrote it. A question
none of this answers stays a bare "question", which the conversation answers by saying so and
offering a person. Every pattern here is a plain search (no nested repetition): linear in the line.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.nlu.faq_search import FaqIndex, content_words
from bot.nlu.matching import CatalogIndex
from bot.nlu.typed_words import keys_of, singular
from bot.nlu.types import NluResult

PRICE = re.compile(r"\b(?:how much|price|prices|pricing|priced|cost|costs|costing|how expensive|what(?:'s| is) .{0,60}"
                   r"going for)\b")
STOCK = re.compile(r"\b(?:do|does|did) (?:you|u|ya|the shop|the store|y'all)(?: guys)? (?:still |also )?"
                   r"(?:have|sell|carry|stock|got|do|offer)\b|\b(?:have|has) (?:you|u) got\b|\bgot any\b|"
                   r"\bin stock\b|\bout of stock\b|\bsold out\b|\b(?:is|are) (?:there )?any\b|"
                   r"\b(?:is|are) (?:the )?\w+ available\b|\bavailable\?|"
                   r"\bif (?:you|u) (?:have|sell|carry|stock)\b|\bany \w+ left\b")
CATALOG = re.compile(r"^(?:so )?(?:what|which)(?: else| other(?: things)?)? (?:do|can|does) (?:you|u|the shop)"
                     r"(?: guys)? (?:have|sell|stock|carry|offer|got)\b|\bwhat (?:products|items|things|"
                     r"stuff|groceries|categories|sections|aisles|kinds? of (?:products|things|stuff|food))\b|"
                     r"\b(?:show|send|list|see|browse)(?: me)?(?: the| your| all| all the)? (?:catalog|catalogue|"
                     r"products|categories|items|product list|range|inventory|aisles|selection|shop)\b|^browse\b|"
                     r"\bwhat(?:'s| is) (?:available|on offer|in stock)\b|\bwhat have (?:you|u) got\b")
LISTING = re.compile(r"\b(?:what|which) (?:kinds?|types?|sorts?|brands?) of\b|"
                     r"\b(?:what|which) \w+(?: \w+)? (?:do|have|can) (?:you|u)(?: guys)? "
                     r"(?:have|sell|carry|stock|got|offer)\b|\bwhat \w+ options\b")
# question words and cue words, hidden before the rest is read as product names
_MASK = re.compile(r"\b(?:how|much|many|what's|whats|what|which|when|where|why|price|prices|pricing|priced|cost|costs|"
                   r"costing|expensive|do|does|did|is|are|was|there's|there|you|u|ya|y'all|guys|have|has|got|sell|"
                   r"sells|selling|sold|carry|stock|stocked|available|left|any|tell|about|know|kinds?|types?|sorts?|"
                   r"brands?|options?|varieties|today|currently|still|going|out|also|else|other|offer|can|could|"
                   r"would|i'd|i|me|want|wanna|like|need|the|of|for|your|shop|store|now|if|please|pls|right|"
                   r"sections?|aisles?|departments?|products?|items?|things?|stuff|selection|categor(?:y|ies)|in)\b")
# words for the catalog's categories that customers use (only those the catalog has are used)
CATEGORY_WORDS = {"veg": "vegetable", "veggie": "vegetable", "greens": "vegetable", "produce": "vegetable",
                  "drink": "drink", "beverage": "drink", "fish": "seafood", "meats": "meat", "cleaning": "household",
                  "baked": "bakery", "pastry": "bakery", "cupboard": "pantry", "staple": "pantry",
                  "milk products": "dairy"}
MAX_QUESTION_WORDS = 60  # a question is short; the words past these are not searched for names


class QuestionReader:
    """Reads one question against a catalog (its word index) and the shop's FAQ."""

    def __init__(self, index: CatalogIndex, items_of: Callable[[str], NluResult],
                 faq_source: Callable[[], list[dict]]):
        self.index, self.catalog = index, index.catalog
        self.items_of = items_of  # the offline parser's item reader
        self.faq_source = faq_source
        self._faq: tuple[list[dict], FaqIndex] | None = None
        self.categories = list(dict.fromkeys(p.category for p in self.catalog if p.category))
        self._category_of = {singular(c.lower()): c for c in self.categories}

    def read(self, line: str) -> NluResult:
        """`line` is the clean()ed question; the answer's material, or a bare question. What it is
        about, first match wins: an aisle listed, products named, an aisle named, the shop."""
        found = self.items_of(_MASK.sub(" , ", line))
        category = self._category(line, found)
        if category and LISTING.search(line):  # "what kind of meat do you sell?": the aisle, not "hamburger meat"
            return self._aisle(category)
        skus = _products_found(found) or self._named_in(line)
        if skus:
            return self._about_products(line, found, skus, _kind(line))
        if category:
            return self._aisle(category)
        return self._about_the_shop(line, found)

    def _aisle(self, category: str) -> NluResult:
        return _asked("list", [p.sku for p in self.catalog if p.category == category], title=category)

    def _about_products(self, line: str, found: NluResult, skus: list[str], kind: str) -> NluResult:
        """A price, stock or other question about the products named. A question "about" a product
        may be about a FAQ topic beside it ("can I return eggs?"), which then answers it."""
        if kind == "about":
            faq = self._faq_beside(line, skus)
            if faq:
                return _faq(faq)
            if found.items:  # "is the cheddar lactose free?": the first product named is the subject
                skus = [found.items[0].sku]
        title = found.ambiguous[0].text if found.ambiguous and not found.items and len(found.ambiguous) == 1 else None
        result = _asked(kind, skus, title=title)
        result.fuzzy = found.fuzzy
        return result

    def _faq_beside(self, line: str, skus: list[str]) -> dict | None:
        """The FAQ entry the question's other words (not the products' names) ask about, if any."""
        named = {k for p in map(self.catalog.get, skus) if p for k in keys_of(" ".join((p.name, *p.aliases)))}
        rest = " ".join(w for w in content_words(line) if singular(w) not in named)
        return self.faq().best(rest) if rest else None

    def _about_the_shop(self, line: str, found: NluResult) -> NluResult:
        """No product or aisle named: the catalog ("what do you sell?"), a FAQ topic, or a product
        the shop does not have ("do you sell kiwis?", with close ones); else a bare question."""
        if CATALOG.search(line):
            return NluResult(intent="question", asked={"kind": "categories", "skus": [], "categories": self.categories})
        faq = self.faq().best(line)
        if faq:
            return _faq(faq)
        if found.unknown and (PRICE.search(line) or STOCK.search(line) or LISTING.search(line)):
            missing = found.unknown[0]
            return _asked("missing", missing.suggestions[:3], text=missing.text)
        return NluResult(intent="question")

    def _category(self, line: str, found: NluResult) -> str | None:
        """The catalog category the question names, unless it names a product beside it ("dragon fruit")."""
        for word in re.findall(r"[a-z]+", line):
            key = singular(CATEGORY_WORDS.get(word, word))
            if key in self._category_of:
                other = {k for u in found.unknown for k in keys_of(u.text) if len(k) > 1} - {key, singular(word)}
                return None if other else self._category_of[key]
        return None

    def _named_in(self, line: str) -> list[str]:
        """A product named word for word somewhere in the question ("is the oat milk vegan?"), the
        longest name first; the item reader misses these when other words follow the name."""
        keys = keys_of(line)[:MAX_QUESTION_WORDS]
        for size in range(min(4, len(keys)), 0, -1):
            for start in range(len(keys) - size + 1):
                skus = self.index.exact(tuple(keys[start:start + size]))
                if len(skus) == 1:
                    return skus
        return []

    def faq(self) -> FaqIndex:
        """The FAQ index, rebuilt when the FAQ source hands out a new list (the shop edited the file)."""
        entries = self.faq_source()
        if self._faq is None or self._faq[0] is not entries:
            self._faq = (entries, FaqIndex(entries))
        return self._faq[1]


def _products_found(found: NluResult) -> list[str]:
    """The products the item reader found in the question: items, the candidates of an ambiguous
    name, refused ones; each once, in that order."""
    return list(dict.fromkeys([i.sku for i in found.items] + [s for a in found.ambiguous for s in a.candidates]
                              + [b.sku for b in found.invalid if b.sku]))


def _kind(line: str) -> str:
    """What a question about products asks: a price, stock, or anything else about them."""
    return "price" if PRICE.search(line) else "stock" if STOCK.search(line) else "about"


def _asked(kind: str, skus: list[str], **more: str | None) -> NluResult:
    return NluResult(intent="question", asked={"kind": kind, "skus": skus, **{k: v for k, v in more.items() if v}})


def _faq(entry: dict) -> NluResult:
    return NluResult(intent="question", answer=entry["answer"],
                     asked={"kind": "faq", "skus": [], "topic": entry["topic"]})


def asks_about_the_shop(line: str) -> bool:
    """A price, stock or catalog question even without a question mark ("price of eggs")."""
    return bool(PRICE.search(line) or STOCK.search(line) or CATALOG.search(line))
