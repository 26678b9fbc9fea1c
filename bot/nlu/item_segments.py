"""A customer's line cut into items: "2 kg of apples, no bread and make the milk 3" is three segments.

Each segment is what one item was typed as: an optional action word ("no", "make it"), an optional
amount ("2 kg of"), and the words that may name a product. The line is read once, left to right,
and each token either ends the current segment, opens the next one, or joins it; nothing here
knows the products (item_reader.py resolves the names), except the catalog names that hold words
the reading would otherwise take apart ("half and half", "can of tomatoes"), which are kept whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.nlu import intents
from bot.nlu.intents import ADD_WORDS, FILLERS, REMOVE_MARKERS, SEPARATORS, SET_MARKERS
from bot.nlu.matching import CatalogIndex
from bot.nlu.numbers import NUMBER_WORDS, UNIT_WORDS, Amount, read_amount
from bot.nlu.typed_words import Token, show, singular
from bot.nlu.types import Action

# words the reading gives a meaning of its own; a catalog name holding one is looked for whole first
_SPECIAL = {singular(w) for w in FILLERS | SEPARATORS | ADD_WORDS | NUMBER_WORDS | set(UNIT_WORDS)}
_SPECIAL |= {w for m in REMOVE_MARKERS + SET_MARKERS for w in m}
_KEPT = "\0"  # what a kept name is read as: never a separator, an action, an amount or a filler

# a token of the line, with the name keys it stands for when it is a catalog name kept whole
Typed = tuple[Token, tuple[str, ...] | None]


@dataclass
class Segment:
    """One item as typed: an optional action word, an optional amount, and product words."""

    action: Action | None = None
    adds: bool = False
    amount: Amount | None = None
    counted: bool = False  # the amount came before the name, without a unit: "6 bananas"
    unit_token: Token | None = None
    runs: list[list[Token]] = field(default_factory=lambda: [[]])
    literals: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (as typed, name keys)
    tokens: list[Token] = field(default_factory=list)

    @property
    def has_words(self) -> bool:
        return bool(self.literals) or any(self.runs)

    @property
    def says_something(self) -> bool:
        """Worth handing on: a name, an amount or an action word (a lone comma is not)."""
        return self.has_words or self.amount is not None or self.action is not None

    def word(self, tok: Token, literal: tuple[str, ...] | None = None) -> None:
        if literal:
            self.literals.append((tok.text, literal))
            self.runs.append([])
        else:
            self.runs[-1].append(tok)

    def gap(self) -> None:
        if self.runs[-1]:
            self.runs.append([])

    @property
    def text(self) -> str:
        return show(self.tokens)


class Segmenter:
    """Cuts lines into segments for one catalog (whose names holding parser words it keeps whole)."""

    def __init__(self, index: CatalogIndex):
        # names and aliases holding words the parser would otherwise consume ("can of tomatoes"),
        # by their first word, longest first
        self._kept: dict[str, list[tuple[str, ...]]] = {}
        for e in index.entries:
            if len(e.keys) > 1 and _SPECIAL & set(e.keys):
                self._kept.setdefault(e.keys[0], []).append(e.keys)
        for phrases in self._kept.values():
            phrases.sort(key=len, reverse=True)

    def split(self, tokens: list[Token]) -> list[Segment]:
        """The line's segments, in the order typed; those that say nothing are left out."""
        return _LineSplit(self._keep_phrases(tokens)).segments()

    def _keep_phrases(self, tokens: list[Token]) -> list[Typed]:
        """Merge typed names that hold parser words ("half and half", "all-purpose flour")."""
        out: list[Typed] = []
        i = 0
        while i < len(tokens):
            for phrase in self._kept.get(tokens[i].key, ()):
                end = _phrase_end(tokens, i, phrase)
                if end:
                    merged = show(tokens[i:end])
                    out.append((Token(merged, merged.lower(), " ".join(phrase), tokens[i].spaced), phrase))
                    i = end
                    break
            else:
                out.append((tokens[i], None))
                i += 1
        return out


class _LineSplit:
    """One line read token by token into segments. Each step reads the token(s) at an index into
    the segment being typed (or closes it and opens the next) and says where the next step starts."""

    def __init__(self, toks: list[Typed]):
        self.toks = toks
        self.lows = [t.low if lit is None else _KEPT for t, lit in toks]
        self.done: list[Segment] = []
        self.cur = Segment()

    def segments(self) -> list[Segment]:
        i = 0
        while i < len(self.toks):
            i = self._step(i)
        self._close()
        return self.done

    def _step(self, i: int) -> int:
        """What the token at i is, first match wins: a kept name, a separator, an action word, an
        amount, or a plain word."""
        tok, literal = self.toks[i]
        if literal is not None:
            return self._kept_name(i, tok, literal)
        low = self.lows[i]
        if low in SEPARATORS or low in ADD_WORDS:
            return self._separator(i, low)
        marker = intents.action_at(self.lows, i)
        if marker:
            return self._action(i, *marker)
        amount, end = read_amount(self.lows, i)
        if amount is not None:
            return self._amount(i, end, amount)
        return self._word(i, tok, low)

    def _close(self) -> None:
        """The segment being typed is finished (kept if it says something); a new one starts."""
        if self.cur.says_something:
            self.done.append(self.cur)
        self.cur = Segment()

    def _kept_name(self, i: int, tok: Token, phrase: tuple[str, ...]) -> int:
        """A catalog name kept whole ("half and half"): a name of the segment, as typed."""
        self.cur.word(tok, phrase)
        self.cur.tokens.append(tok)
        return i + 1

    def _separator(self, i: int, low: str) -> int:
        """A comma, "and", "with"...: the next item starts; "add", "plus" and "also" say it is added."""
        self._close()
        self.cur.adds = low in ADD_WORDS
        return i + 1

    def _action(self, i: int, words: tuple[str, ...], action: Action) -> int:
        """"no", "remove", "make it": an action word after a name or an amount starts the next item
        ("2 apples no bread"); before them it belongs to this one ("remove 2 apples")."""
        if self.cur.has_words or self.cur.amount is not None:
            self._close()
        self.cur.action = action
        self.cur.tokens.extend(t for t, _ in self.toks[i:i + len(words)])
        return i + len(words)

    def _amount(self, i: int, end: int, amount: Amount) -> int:
        """An amount opens the next item when this one has an amount already ("2 apples 3 pears") or
        has a name with more name words after the amount ("apples 3 pears"); at the end of a name it
        is that name's ("apples x 2")."""
        if self.cur.amount is not None or (self.cur.has_words and _words_follow(self.lows, end)):
            self._close()
        cur = self.cur
        cur.amount = amount
        cur.counted = amount.unit is None and not cur.has_words
        cur.unit_token = self._unit_token(i, end)
        cur.tokens.extend(t for t, _ in self.toks[i:end])
        cur.gap()
        return end

    def _unit_token(self, start: int, end: int) -> Token | None:
        """The unit word the amount was read with (the last of tokens start..end), if any."""
        for k in range(end - 1, start - 1, -1):
            if self.lows[k] in UNIT_WORDS:
                return self.toks[k][0]
        return None

    def _word(self, i: int, tok: Token, low: str) -> int:
        """Any other token: a word of the name, or a filler or a mark that separates name words
        ("the milk": one name; "milk the eggs": two runs)."""
        self.cur.tokens.append(tok)
        if low == "-" and not tok.spaced and i + 1 < len(self.toks) and not self.toks[i + 1][0].spaced:
            return i + 1  # "full-fat": one name
        if low in FILLERS or not tok.is_word:
            self.cur.gap()
        else:
            self.cur.word(tok)
        return i + 1


def _words_follow(lows: list[str], j: int) -> bool:
    """Whether a name word (or a kept name) comes at or after position j, before the next separator."""
    for low in lows[j:]:
        if low in SEPARATORS or low in ADD_WORDS:
            return False
        if low == _KEPT or (low not in FILLERS and low[:1].isalpha()):
            return True
    return False


def _phrase_end(tokens: list[Token], i: int, phrase: tuple[str, ...]) -> int | None:
    """Where `phrase` ends if its words start at tokens[i] (hyphens between them allowed)."""
    n = 0
    for j in range(i, len(tokens)):
        if tokens[j].key == "-" and n:
            continue
        if tokens[j].key != phrase[n]:
            return None
        n += 1
        if n == len(phrase):
            return j + 1
    return None
