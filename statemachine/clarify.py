"""'Which milk did you mean?': asking, and reading the answer among the options offered first.

An answer is matched against the offered products before anything else reads it, so "oat" picks
Oat milk rather than a box of rolled oats: by number, by position ("the first one", "the last"),
by price ("the cheaper one"), or by words of one option's name or aliases. Nothing asked about is
dropped silently: an answer that fits no option asks again with the options, "none" leaves the
item out and says so, and another request (the cart, checkout) says what was left out.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from statemachine import prompts
from statemachine.inputs import Ambiguous, Catalog, Product
from statemachine.model import Conversation
from statemachine.money import price_label

NONE = "none"  # the customer wants none of the options
MAX_ANSWER, MAX_ANSWER_WORDS = 200, 8  # characters and words an answer to "which one?" may have
NOT_AN_ANSWER = ("unknown", "choice", "yes", "greeting")  # answers that fit no option: ask again
_WORD = re.compile(r"[^\W_]+")
_FILLER = frozenset("""
the a an one ones please pls plz i i'd id want would like that this just ok okay thanks thank you me give get
take have option number choice of it is for kind type sort version with go prefer rather let's lets yes yeah
""".split())
_POSITIONS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
              "fifth": 4, "5th": 4, "last": -1}
_CHEAP = frozenset({"cheaper", "cheapest", "cheap", "least", "lowest", "inexpensive"})
_DEAR = frozenset({"dearer", "dearest", "pricier", "priciest", "expensive", "most", "highest"})
_NONE = re.compile(r"(?:none|neither|nothing|no|nope|skip(?: it)?|forget it|never ?mind|none of (?:them|those)"
                   r"|no thanks|leave it(?: out)?|don'?t want (?:it|any))")


def _queued(ambiguous: Sequence[Ambiguous]) -> list[dict[str, Any]]:
    return [{"candidates": list(a.candidates), "quantity": a.quantity, "action": a.action, "text": a.text}
            for a in ambiguous]


def ask(conv: Conversation, ambiguous: Sequence[Ambiguous], currency: str, catalog: Catalog) -> str | None:
    """Queue the ambiguities (first one asked now); returns the question, or None if none is left."""
    return _ask_next(conv, _queued(ambiguous), currency, catalog)


def _ask_next(conv: Conversation, queue: list[dict[str, Any]], currency: str, catalog: Catalog) -> str | None:
    while queue:
        first = queue.pop(0)
        products = [p for p in (catalog.get(s) for s in first["candidates"]) if p is not None]
        if len(products) < 2:
            continue
        conv.step = "clarify"
        conv.pending = {**first, "candidates": [p.sku for p in products], "queue": queue}
        return current(conv, currency, catalog)
    conv.step, conv.pending = None, {}
    return None


def queue_more(conv: Conversation, ambiguous: Sequence[Ambiguous], currency: str, catalog: Catalog) -> str:
    """New ambiguities while a question is open wait behind it; the open question is asked again."""
    conv.pending["queue"] = conv.pending.get("queue", []) + _queued(ambiguous)
    return current(conv, currency, catalog)


def current(conv: Conversation, currency: str, catalog: Catalog) -> str:
    """The open question, asked again as it was first asked."""
    products = [p for p in (catalog.get(s) for s in conv.pending["candidates"]) if p is not None]
    return prompts.which_one(conv.pending["text"], [price_label(p, currency) for p in products])


def options_of(conv: Conversation) -> tuple[str, ...]:
    return tuple(conv.pending.get("candidates", ()))


def pick(text: str, choice: int | None, intent: str, products: list[Product], asked: str = "") -> Product | str | None:
    """The product the answer names, NONE, or None when it names none of them (or several)."""
    if choice is not None:
        return products[choice - 1] if 1 <= choice <= len(products) else None
    said = _WORD.findall(text.lower().replace("’", "'")[:MAX_ANSWER])
    words = [w for w in said if w not in _FILLER]
    if len(words) > MAX_ANSWER_WORDS:  # a long line is not an answer to "which one?" (and stays cheap)
        return None
    rest = [w for w in said if w not in set(_WORD.findall(asked.lower()))]  # "no milk" answers "which milk?"
    if intent == "no" or _NONE.fullmatch(" ".join(rest)):
        return NONE
    for w in words:
        if w in _POSITIONS and len(words) <= 2:
            return products[_POSITIONS[w]] if _POSITIONS[w] < len(products) else None
    by_price = _by_price(words, products)
    if by_price is not None:
        return by_price
    return _by_words(words, products)


def _by_price(words: list[str], products: list[Product]) -> Product | None:
    cheap, dear = any(w in _CHEAP for w in words), any(w in _DEAR for w in words)
    if cheap == dear or len(words) > 4:
        return None
    prices = [p.price_cents for p in products]
    best = min(prices) if cheap else max(prices)
    chosen = [p for p in products if p.price_cents == best]
    return chosen[0] if len(chosen) == 1 else None


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _by_words(words: list[str], products: list[Product]) -> Product | None:
    """The one option sharing the most words with the answer (typos forgiven), if it is alone."""
    said = {_stem(w) for w in words}
    names = {p.sku: {_stem(w) for w in _WORD.findall(" ".join((p.name, *p.aliases)).lower())} for p in products}
    vocabulary = sorted(set().union(*names.values()))
    known = set()
    for w in said:
        if w in vocabulary:
            known.add(w)
        elif len(w) >= 4 and (close := difflib.get_close_matches(w, vocabulary, n=1, cutoff=0.8)):
            known.add(close[0])
    if not known or len(known) < len(said) / 2:  # mostly other words: not an answer to this question
        return None
    scores = {sku: len(known & words_) for sku, words_ in names.items()}
    best = max(scores.values())
    winners = [p for p in products if scores[p.sku] == best]
    return winners[0] if best and len(winners) == 1 else None


def next_question(conv: Conversation, currency: str, catalog: Catalog) -> str | None:
    """After an answer: the next queued question, or None (and the step is over)."""
    return _ask_next(conv, list(conv.pending.get("queue", [])), currency, catalog)


def again(conv: Conversation, currency: str, catalog: Catalog) -> str:
    products = [p for p in (catalog.get(s) for s in conv.pending["candidates"]) if p is not None]
    return prompts.which_one_again(conv.pending["text"], [price_label(p, currency) for p in products])
