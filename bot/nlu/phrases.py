"""Whole-line phrases ("hi there", "yes please, that's all") matched word by word, in linear time.

A single regex of the shape `(?:a|b|a b)(?:[\\s,]+(?:a|b|a b))*` tries every way of splitting a
repeated phrase, which is exponential in the line: "hi there " x 24 + "zz" took seconds. Here each
phrase regex (no repetition inside) is only ever tried on a span of at most MAX_PHRASE_WORDS
words, and which spans can follow which is a dynamic programme over word positions: O(words x
MAX_PHRASE_WORDS). Lines longer than MAX_LINE are not whole-line phrases at all, so even that
work is bounded.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

MAX_LINE = 240  # characters; a line of commands this long is not a command
MAX_PHRASE_WORDS = 10  # no phrase in the vocabularies is longer (tests/unit/test_nlu_phrases.py checks)
_SEPARATOR = re.compile(r"[\s,!.]+")


def words_of(line: str) -> list[str]:
    """The words between separators (spaces, commas, ! and .), as the phrases see them."""
    return [w for w in _SEPARATOR.split(line) if w]


class Phrases:
    """One or more of the phrases `pattern` lists, separated by spaces or commas, and nothing else.

    `pattern` is a regex alternation of single phrases (as in "hi|hello|good (?:morning|day)");
    `lead` optionally allows one phrase of another set first ("no, that's all").
    """

    def __init__(self, pattern: str, lead: Phrases | None = None):
        self.pattern = pattern
        self.one = re.compile(rf"(?:{pattern})")
        self.lead = lead

    def fullmatch(self, line: str) -> bool:
        """True when the whole line (already lowercased and trimmed) is made of these phrases,
        optionally ending in one question mark."""
        if not line or len(line) > MAX_LINE:
            return False
        if self._covers(words_of(line)):
            return True
        return line.endswith("?") and self._covers(words_of(line[:-1]))

    def _covers(self, words: list[str]) -> bool:
        """Word-break over phrase spans: reach[j] when words[:j] ends with one of our phrases."""
        n = len(words)
        starts = {0} | (set(self.lead._ends(words, 0)) if self.lead is not None else set())
        reach = [False] * (n + 1)
        for i in range(n):
            if i in starts or reach[i]:
                for j in self._ends(words, i):
                    reach[j] = True
        return reach[n]

    def _ends(self, words: list[str], i: int) -> Iterator[int]:
        """Every j such that words[i:j] is one phrase (j - i <= MAX_PHRASE_WORDS)."""
        for j in range(i + 1, min(len(words), i + MAX_PHRASE_WORDS) + 1):
            if self.one.fullmatch(" ".join(words[i:j])):
                yield j
