"""Quantities as customers type them ("2", "1.5", "1,000", "three and a half", "half a dozen", "500 g").

Reading stops at what it understands: "a few" is reported as vague rather than guessed. What an
amount means for one product (its unit, pieces, limits) is quantities.py's business.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_FRACTION_WORDS = {"half": 0.5, "quarter": 0.25}
_PAIRS = {"couple": 2, "pair": 2}
NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS) | frozenset(_SCALES) | frozenset(_FRACTION_WORDS) | frozenset(_PAIRS)
_COUNT_WORDS = frozenset(_ONES) | frozenset(_TENS)
VAGUE_WORDS = frozenset({"few", "several", "many", "lots", "lot", "plenty", "loads", "bunches"})

UNIT_WORDS = {
    "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
    "kilogramme": "kg", "kilogrammes": "kg",
    "g": "g", "gr": "g", "grs": "g", "gram": "g", "grams": "g", "gramme": "g", "grammes": "g",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz", "ounce": "oz", "ounces": "oz",
    "l": "l", "lt": "l", "ltr": "l", "ltrs": "l", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "milliliter": "ml", "milliliters": "ml",
    "cl": "cl",
    "each": "each", "piece": "each", "pieces": "each", "pc": "each", "pcs": "each", "item": "each", "items": "each",
    "pack": "pack", "packs": "pack", "packet": "pack", "packets": "pack", "package": "pack", "packages": "pack",
    "dozen": "dozen", "dozens": "dozen",
    "bunch": "bunch", "bunches": "bunch", "loaf": "loaf", "loaves": "loaf", "bag": "bag", "bags": "bag",
    "bottle": "bottle", "bottles": "bottle", "jar": "jar", "jars": "jar", "can": "can", "cans": "can",
    "tin": "can", "tins": "can", "box": "box", "boxes": "box",
    # containers no catalog unit matches: named so "a carton of eggs" is refused, not read as 1 egg
    "carton": "carton", "cartons": "carton", "tub": "tub", "tubs": "tub", "punnet": "punnet",
    "punnets": "punnet", "tray": "tray", "trays": "tray", "crate": "crate", "crates": "crate",
}


@dataclass(frozen=True, slots=True)
class Amount:
    """How much was asked for: `value` None means vague ("a few"); `unit` None means unsaid."""

    value: float | None
    unit: str | None = None
    explicit: bool = True  # False for a bare "a"/"an", which only says "one of"


_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3}){2,}")  # 1,000,000.5 / 1.000.000
_DECIMAL = re.compile(r"\d+(?:[.,]\d+)?")  # 1.5, 1,5


def _digits(word: str) -> float | None:
    """A number written in digits: "2", "1.5", "1,5", "1,000", "1,000,000", "1.000.000", "1/2"."""
    if len(word) > 40 or word.endswith("%"):  # no quantity is written with 40 digits
        return None
    sign, body = (-1, word[1:]) if word.startswith("-") else (1, word)
    try:
        if "/" in body:
            top, bottom = body.split("/")
            return sign * int(top) / int(bottom) if int(bottom) else None
        if _THOUSANDS.fullmatch(body):
            separator = "," if "," in body else "."
            whole, _, fraction = body.replace(separator, "").partition("," if separator == "." else ".")
            return sign * float(f"{whole}.{fraction or 0}")
        if _DECIMAL.fullmatch(body):
            return sign * float(body.replace(",", "."))
    except ValueError:
        pass
    return None


def _at(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


SPOKEN_LIMIT = 10 ** 12  # no spoken amount grows past this (a bigger one is read as this, and refused)


def _read_words(words: list[str], i: int) -> tuple[float | None, int]:
    """Spelled numbers: "three", "twenty one", "a hundred", "two thousand"."""
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(words):
        w = words[j]
        if w in _ONES:
            current += _ONES[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES and (seen or j == i):
            scale = _SCALES[w]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            if total + current > SPOKEN_LIMIT:  # "hundred hundred hundred ...": absurd, and refused as such
                return float(SPOKEN_LIMIT), j + 1
        elif w == "-" and seen and _at(words, j + 1) in _ONES:
            j += 1
            continue
        elif w == "and" and seen and _at(words, j + 1) in _COUNT_WORDS and current >= 100:
            j += 1
            continue
        else:
            break
        seen, j = True, j + 1
    return (total + current, j) if seen else (None, i)


def _read_fraction_tail(words: list[str], j: int) -> tuple[float, int]:
    """"... and a half", "... and a quarter", "... 1/2" after a whole number."""
    if _at(words, j) == "and":
        k = j + 1 + (_at(words, j + 1) in ("a", "an"))
        if _at(words, k) in _FRACTION_WORDS:
            return _FRACTION_WORDS[_at(words, k)], k + 1
    nxt = _at(words, j)
    if "/" in nxt and (frac := _digits(nxt)) is not None and frac < 1:
        return frac, j + 1
    return 0.0, j


# a number read: (value, index after it, explicit); (None, i, False) when there is none
Number = tuple[float | None, int, bool]


def read_number(words: list[str], i: int) -> Number:
    """A number starting at words[i]: (value, index after it, explicit). (None, i, _) if none.
    Not explicit: words that only say "one of" ("a", "another", "bag of"). First match wins."""
    w = _at(words, i)
    if _is_digits(w):
        return _in_digits(words, i)
    if w == "another":
        return 1.0, i + 1, False
    if _container_of(words, i):  # "bag of rice", "kilo of apples": the unit reader takes the unit word
        return 1.0, i, False
    if w in ("a", "an"):
        return _after_article(words, i)
    if w in _FRACTION_WORDS:  # "half a kilo", "half a dozen", "half kg"
        j = i + 1 + (_at(words, i + 1) in ("a", "an") and _at(words, i + 2) in UNIT_WORDS)
        return _FRACTION_WORDS[w], j, True
    if w in _PAIRS:  # "a couple of", "pair"
        return float(_PAIRS[w]), i + 1 + (_at(words, i + 1) == "of"), True
    if w in ("dozen", "dozens"):  # "dozen eggs": the unit reader takes the word itself
        return 1.0, i, True
    return _spelled(words, i)


def _is_digits(word: str) -> bool:
    """Written with digits: "2", "1.5", "-1"."""
    return word[:1].isdigit() or (word[:1] == "-" and word[1:2].isdigit())


def _container_of(words: list[str], i: int) -> bool:
    """A unit word before "of" ("bag of", "kilo of"): one of that unit."""
    w = _at(words, i)
    return w in UNIT_WORDS and _at(words, i + 1) == "of" and len(w) > 1


def _in_digits(words: list[str], i: int) -> Number:
    """A number in digits, and a fraction after a whole one ("2 and a half", "1 1/2")."""
    value = _digits(words[i])
    if value is None:
        return None, i, False
    if value >= 1 or value == 0:
        tail, j = _read_fraction_tail(words, i + 1)
        return value + tail, j, True
    return value, i + 1, True  # a fraction or a negative number takes no fraction after it


def _after_article(words: list[str], i: int) -> Number:
    """"a"/"an" says one of, unless an amount word follows it ("a half", "a couple", "a hundred")."""
    nxt = _at(words, i + 1)
    if nxt in _FRACTION_WORDS or nxt in _PAIRS or nxt in _SCALES:
        value, j, _ = read_number(words, i + 1)
        return value, j, True
    return 1.0, i + 1, False


def _spelled(words: list[str], i: int) -> Number:
    """A number in words ("twenty one", "two thousand"), and a fraction after it ("three and a half")."""
    value, j = _read_words(words, i)
    if value is None:
        return None, i, False
    tail, j = _read_fraction_tail(words, j)
    return value + tail, j, True


_MULTIPACK = frozenset({"pack", "packs", "pk", "count", "ct"})


def _multipack(words: list[str], i: int) -> int | None:
    """Where "a 12 pack (of)" / "one 6-pack" ends: one pack that holds 12, not 12 packs."""
    if _at(words, i) not in ("a", "an", "one") or not _at(words, i + 1).isdigit():
        return None
    j = i + 2 + (_at(words, i + 2) == "-")
    if _at(words, j) not in _MULTIPACK:
        return None
    return j + 1 + (_at(words, j + 1) == "of")


def read_amount(words: list[str], i: int) -> tuple[Amount | None, int]:
    """A quantity with its unit at words[i] ("2 kg of", "a dozen", "a few"); (None, i) if none."""
    if (end := _multipack(words, i)) is not None:
        return Amount(1.0, "pack"), end
    k = i + (_at(words, i) in ("a", "an"))
    if _at(words, k) in VAGUE_WORDS:
        j = k + 1
        unit = UNIT_WORDS.get(_at(words, j))
        j += unit is not None
        return Amount(None, unit), j + (_at(words, j) == "of")
    value, j, explicit = read_number(words, i)
    if value is None:
        return None, i
    j += _at(words, j) in ("x", "*")  # "2 x milk"
    unit = UNIT_WORDS.get(_at(words, j))
    if unit is not None:
        j += 1
        tail, j = _read_fraction_tail(words, j)  # "a kilo and a half"
        value += tail
        explicit = True
    elif not explicit and _at(words, j) in ("of", ""):
        return None, i  # a lonely "a"
    return Amount(value, unit, explicit), j + (_at(words, j) == "of")
