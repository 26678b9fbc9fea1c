"""The words and marks of a typed line, as the matching reads them: each with its text as typed, its
lowercase, and its key (a crude singular, applied alike to product names and to what customers
type, so both meet). Pure functions: no catalog here (matching.py indexes names by these keys).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_FRACTIONS = {"½": " 1/2 ", "¼": " 1/4 ", "¾": " 3/4 ", "’": "'", "‘": "'", "×": " x ", "&": " and "}
_TOKEN_RE = re.compile(
    r"(?:[^\W\d_]\.){2,}"                           # abbreviations: o.j.
    r"|(?:(?<![\w.,])-)?\d+(?:[.,]\d+)*(?:/\d+)?%?"   # 2, -2, 1.5, 1,5, 1,000, 1/2, 2%
    r"|[^\W\d_]+(?:'[^\W\d_]+)?"                     # words, with contractions: i'd, don't
    r"|[^\w\s]"                                     # one punctuation mark: , ; ? # & + -
)
_IRREGULAR = {
    "loaves": "loaf", "leaves": "leaf", "halves": "half", "knives": "knife", "cookies": "cookie",
    "pies": "pie", "brownies": "brownie", "smoothies": "smoothie", "veggies": "veggie",
    "shoes": "shoe", "geese": "goose", "mice": "mouse", "children": "child",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One typed word or mark: `text` as typed, `low` lowercased, `key` the singular used to match."""

    text: str
    low: str
    key: str
    spaced: bool = False  # whitespace before it, so spans can be shown as typed

    @property
    def is_word(self) -> bool:
        return self.key[:1].isalnum() or (self.key[:1] == "-" and self.key[1:2].isdigit())


def singular(word: str) -> str:
    """A crude English singular, applied alike to names and to what is typed, so both meet."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "oes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str, limit: int | None = None) -> list[Token]:
    """The words and marks of `text` (at most `limit` of them: the rest is not even looked at)."""
    for odd, plain in _FRACTIONS.items():
        text = text.replace(odd, plain)
    tokens: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        if limit is not None and len(tokens) >= limit:
            break
        low = m.group().lower()
        key = low.replace(".", "") if low.endswith(".") and len(low) > 2 else singular(low)
        tokens.append(Token(m.group(), low, key, m.start() > 0 and text[m.start() - 1].isspace()))
    return tokens


def show(tokens: list[Token]) -> str:
    """Tokens back as the customer typed them ("2kg apples", "twenty-one eggs")."""
    return "".join((" " if t.spaced and n else "") + t.text for n, t in enumerate(tokens))


def keys_of(text: str) -> list[str]:
    return [t.key for t in tokenize(text) if t.is_word]
