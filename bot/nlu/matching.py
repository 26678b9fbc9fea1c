"""Find catalog products by the words a customer typed: one word index over names and aliases.

Built once per catalog and shared: the offline parser asks `resolve` (precise: one product, a
question, or nothing) and the Gemini backend asks `search` (recall: which products to show the
model). Spelling is fixed word by word with rapidfuzz against the catalog's own vocabulary, so
ordinary words never drift onto products and a 10,000-product catalog stays fast. The words
themselves (tokens, keys, the crude singular) are read by typed_words.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.nlu.typed_words import keys_of, singular
from bot.shop.catalog import Catalog

# Words that glue a name together but never tell products apart ("tomatoes on the vine").
STOP_WORDS = frozenset({"a", "an", "the", "of", "and", "with", "in", "on", "for", "to", "or", "per", "x"})


def _common_words() -> frozenset[str]:
    text = (Path(__file__).resolve().parent / "data" / "common_words.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


# Ordinary English words are never spelling-corrected into a product ("price" -> "rice").
COMMON_WORDS = _common_words()
# The least similarity (rapidfuzz ratio, 0-100) for a spelling correction, by length of the word typed:
# one letter in five is a lot ("price"/"rice" is 88.9), one in eight is a typo ("bannana").
CUTOFFS = {4: 85, 5: 90, 6: 85}
LONG_CUTOFF = 80
MAX_PARTS, MAX_PART = 8, 200  # what `search` looks at of a long phrase


@dataclass(frozen=True, slots=True)
class Entry:
    """A product name or alias as the index sees it; `optional` holds words from brackets."""

    sku: str
    text: str
    keys: tuple[str, ...]
    content: frozenset[str]
    optional: frozenset[str]
    head: str
    alias: bool


@dataclass(slots=True)
class Resolution:
    """What a phrase names: one sku (sure), several (ask which), or none (suggestions only)."""

    skus: list[str] = field(default_factory=list)
    exact: bool = False
    suggestions: list[str] = field(default_factory=list)
    corrected: bool = False  # a typed word was spelling-corrected to reach these skus


def _entry(sku: str, text: str, alias: bool) -> Entry | None:
    optional = " ".join(re.findall(r"\(([^)]*)\)", text))
    main = re.sub(r"\([^)]*\)", " ", text)
    keys = tuple(keys_of(main))
    content = [k for k in keys if k not in STOP_WORDS] or list(keys)
    if not content:
        return None
    return Entry(sku, " ".join(keys), keys, frozenset(content),
                 frozenset(keys_of(optional)) - STOP_WORDS, content[-1], alias)


class CatalogIndex:
    """Names and aliases of a catalog, indexed by word once; look-ups touch only the words typed."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.entries: list[Entry] = []
        for p in catalog:
            for text, alias in [(p.name, False), *((a, True) for a in p.aliases)]:
                entry = _entry(p.sku, text, alias)
                if entry is not None:
                    self.entries.append(entry)
        self._postings: dict[str, set[int]] = {}
        for i, e in enumerate(self.entries):
            for k in e.content | e.optional:
                self._postings.setdefault(k, set()).add(i)
        # the words a misspelling can be corrected to: only a word of letters is ever corrected, so
        # sizes and numbers in names ("500", "#12") are not among those compared
        self._vocab = sorted(w for w in self._postings if w.isalpha())
        self._longest = max((len(w) for w in self._vocab), default=0)  # longer typed words match nothing
        self._anagrams: dict[str, list[str]] = {}  # sorted letters -> words, for swapped letters ("onoin")
        for w in self._vocab:
            self._anagrams.setdefault("".join(sorted(w)), []).append(w)
        self._texts = [e.text for e in self.entries]
        self._by_keys: dict[tuple[str, ...], list[int]] = {}
        for i, e in enumerate(self.entries):
            self._by_keys.setdefault(e.keys, []).append(i)
        self._corrections: dict[str, str | None] = {}
        self._resolved: dict[tuple, Resolution] = {}  # resolve(suggest=False), by (words typed, fuzzy)

    # -- words -------------------------------------------------------------------------------

    def correct(self, key: str) -> str | None:
        """The catalog word meant by `key`: itself, a close spelling (long words only), or None.

        Common English words are never corrected, and short words need a closer spelling."""
        if key in self._postings:
            return key
        if key in self._corrections:
            return self._corrections[key]
        hit = None
        if 4 <= len(key) <= self._longest + 3 and key.isalpha() and key not in COMMON_WORDS:
            cutoff = CUTOFFS.get(len(key), LONG_CUTOFF)
            best = process.extractOne(key, self._vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
            # a 4-letter word may only be missing a letter ("aple"), never swap one ("beer"/"beef")
            if best and (len(key) > 4 or len(best[0]) > len(key)):
                hit = best[0]
            else:
                hit = self._swapped(key)
        if len(self._corrections) > 50_000:
            self._corrections.clear()
        self._corrections[key] = hit
        return hit

    def _swapped(self, key: str) -> str | None:
        """The catalog word `key` is with two neighbouring letters swapped ("onoin" -> "onion"), if one.
        Only the same letters in a new order: a changed letter ("chips"/"chops") is never a typo here."""
        for word in self._anagrams.get("".join(sorted(key)), ()):
            diffs = [i for i, (a, b) in enumerate(zip(key, word, strict=True)) if a != b]
            if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
                return word
        return None

    def _glue(self, keys: list[str]) -> list[str]:
        """Words typed apart that the catalog spells as one ("pine apple"), and the reverse ("icecream")."""
        out: list[str] = []
        for k in keys:
            if out and (joined := singular(out[-1] + k)) in self._postings:
                out[-1] = joined
            elif k not in self._postings and 6 <= len(k) <= 2 * self._longest and (halves := self._halves(k)):
                out.extend(halves)
            else:
                out.append(k)
        return out

    def _halves(self, key: str) -> list[str] | None:
        for n in range(3, len(key) - 2):
            if key[:n] in self._postings and singular(key[n:]) in self._postings:
                return [key[:n], singular(key[n:])]
        return None

    # -- precise: the parser ---------------------------------------------------------------------

    def resolve(self, keys: list[str], suggest: bool = True, fuzzy: bool = True) -> Resolution:
        """Which product these words name (see _resolve); answers without suggestions are remembered.
        `fuzzy=False` takes the words only as typed (no spelling correction: cheap)."""
        if suggest:
            return self._resolve(keys, suggest, fuzzy)
        key = (tuple(keys), fuzzy)
        if key not in self._resolved:
            if len(self._resolved) > 50_000:
                self._resolved.clear()
            self._resolved[key] = self._resolve(keys, False, fuzzy)
        hit = self._resolved[key]
        return Resolution(list(hit.skus), hit.exact, [], hit.corrected)

    def _resolve(self, keys: list[str], suggest: bool = True, fuzzy: bool = True) -> Resolution:
        """Which product these words name, preferring a question to a wrong product in the cart.

        Accepted: entries containing every recognised word typed, whose main noun (last word of
        the name outside brackets) was typed. An exact name or alias wins outright; otherwise the
        entries naming the most of their words form the answer (several = ambiguous). With
        `suggest`, a miss also lists close products (may scan the whole catalog: ~5 ms at 10k).
        """
        query = self._query(keys, fuzzy)
        if not query.known:
            return Resolution(suggestions=self.suggest(query.keys) if suggest else [])
        scored, modifier_only = self._candidates(query)
        if scored:
            return _best(scored, query.corrected)
        others = _skus(modifier_only)
        if len(others) > 1:  # "whole" for whole milk and whole wheat bread: ask which
            return Resolution(others, corrected=query.corrected)
        return Resolution(suggestions=others or (self.suggest(query.keys) if suggest else []))

    def _query(self, keys: list[str], fuzzy: bool) -> _Query:
        """The typed words as the index reads them: stop words out, glued or cut as the catalog
        spells them, each one the catalog word it is (spelling-corrected when `fuzzy`) or unknown."""
        keys = self._glue([k for k in keys if k not in STOP_WORDS])
        fixed = [self.correct(k) if fuzzy else (k if k in self._postings else None) for k in keys]
        known = {c for c in fixed if c}
        extras = sum(1 for c in fixed if not c)
        return _Query(keys, known, extras, tolerate=bool(extras) and fixed[-1] is not None,
                      corrected=any(f and f != k for f, k in zip(fixed, keys, strict=True)))

    def _candidates(self, query: _Query) -> tuple[list[tuple[float, Entry]], list[Entry]]:
        """The entries holding every recognised word: scored when their main noun was typed (the
        share of their words typed, +1 for the whole name and nothing else), apart when only their
        other words were ("whole" for whole milk)."""
        qset, extras = query.known, query.extras
        ids = set.intersection(*sorted((self._postings[k] for k in qset), key=len))
        scored: list[tuple[float, Entry]] = []
        modifier_only: list[Entry] = []
        for i in sorted(ids):
            e = self.entries[i]
            matched = qset & e.content
            if not matched:
                continue
            complete = matched == e.content
            if extras and not (query.tolerate and complete and extras <= len(matched)):
                continue
            if e.head in qset:
                scored.append((len(matched) / len(e.content) + (not extras and complete), e))
            elif not extras:
                modifier_only.append(e)
        return scored, modifier_only

    def containing(self, keys: list[str]) -> list[str]:
        """Skus with a name or alias holding every one of these (recognised) words, in catalog order."""
        known = [c for c in (self.correct(k) for k in keys if k not in STOP_WORDS) if c]
        if not known:
            return []
        ids = set.intersection(*(self._postings[k] for k in known))
        return _skus(self.entries[i] for i in sorted(ids))

    def exact(self, phrase_keys: tuple[str, ...]) -> list[str]:
        """Skus whose name or alias is exactly these words (used for phrases kept whole)."""
        return _skus(self.entries[i] for i in self._by_keys.get(phrase_keys, ()))

    def suggest(self, keys: list[str], limit: int = 3) -> list[str]:
        return [sku for sku, _ in self.search(" ".join(keys), limit=limit)]

    # -- recall: suggestions and the Gemini prompt ------------------------------------------------

    def search(self, phrase: str, limit: int = 5) -> list[tuple[str, float]]:
        """Products whose names look like `phrase`, best first, as (sku, score 0..100).

        Candidates come from the word index (each comma/"and" part searched on its own, results
        interleaved); only when no word is known is the whole catalog scanned once, by plain
        similarity of the whole phrase (partial scorers there suggest "cucumber" for "beer").
        """
        # a handful of parts, each of a sensible length: a phrase of 1,000 commas is not 1,000 searches
        parts = [p[:MAX_PART] for p in re.split(r"[,;\n]|\band\b|&", phrase.lower()) if p.strip()][:MAX_PARTS] \
            or [phrase[:MAX_PART]]
        ranked = [self._search_part(p, limit) for p in parts]
        out: dict[str, float] = {}
        for rank in range(limit):
            for hits in ranked:
                if rank < len(hits) and hits[rank][0] not in out:
                    out[hits[rank][0]] = hits[rank][1]
        return list(out.items())[:limit]

    def _search_part(self, phrase: str, limit: int) -> list[tuple[str, float]]:
        keys = self._glue([k for k in keys_of(phrase) if k not in STOP_WORDS])
        if not keys:
            return []
        fixed = [self.correct(k) for k in keys]
        query = " ".join(f or k for f, k in zip(fixed, keys, strict=True))
        ids = set().union(*(self._postings[f] for f in fixed if f))
        if ids:
            choices = {i: self._texts[i] for i in ids}
            hits = process.extract(query, choices, scorer=fuzz.WRatio, score_cutoff=50, limit=limit * 8)
        else:
            hits = process.extract(query, self._texts, scorer=fuzz.ratio, score_cutoff=75, limit=limit * 8)
        best: dict[str, float] = {}
        for _, score, i in hits:
            sku = self.entries[i].sku
            best[sku] = max(best.get(sku, 0), score)
        return sorted(best.items(), key=lambda x: -x[1])[:limit]


@dataclass(slots=True)
class _Query:
    """A phrase's words as the index reads them (see CatalogIndex._query)."""

    keys: list[str]  # the words typed, stop words out, glued or cut as the catalog spells them
    known: set[str]  # the catalog words they are
    extras: int  # how many of them the catalog does not know
    # unknown words may qualify a complete name ("red apples") but not follow it ("apple pie")
    tolerate: bool
    corrected: bool  # a word was spelling-corrected to reach `known`


def _best(scored: list[tuple[float, Entry]], corrected: bool) -> Resolution:
    """An exact name or alias (score 2) wins outright; otherwise the entries within 0.2 of the best
    score, best first (several: the customer is asked which)."""
    exact = _skus(e for s, e in scored if s >= 2)
    if exact:
        return Resolution(exact, exact=True, corrected=corrected)
    best = max(s for s, _ in scored)
    return Resolution(_skus(e for s, e in sorted(scored, key=lambda x: -x[0]) if s >= best - 0.2),
                      corrected=corrected)


def _skus(entries: Iterable[Entry]) -> list[str]:
    return list(dict.fromkeys(e.sku for e in entries))
