"""Finding the shop's FAQ entry a question is about, offline: BM25 ranking by SQLite's FTS5.

SQLite ships with Python and its FTS5 extension ranks by BM25 (`bm25()`) with Porter stemming, so
"delivering" meets "delivery" and "opening" meets "open" without another dependency. An entry is
only an answer when it contains most of the question's content words (a topic word alone, like
"card" in "do you have gift cards?", is not enough): otherwise the bot says it does not know.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading

log = logging.getLogger("orderline.nlu")

# Words that carry no topic: a question's content is what is left ("how much is delivery" -> delivery).
# "when" and "where" stay: they tell "When do you deliver?" from "Where do you deliver?".
FUNCTION_WORDS = frozenset("""
a about after all also am an and any anything are as at be been before but by can could did do does doing
for from get got had has have how i i'd i'm if in is it it's its just know let me much my need of on or our
please pls should so some tell than that the their them then there they this to u up us was we what what's
whats which who why will with would you your yours ya hi hello hey thanks thank ok okay
""".split())
MIN_COVERAGE = 0.6  # share of the question's content words the best entry must contain
_WORD = re.compile(r"[^\W_]+")


class FaqIndex:
    """The FAQ entries (question, answer, optional keywords) in an in-memory FTS5 table."""

    def __init__(self, entries: list[dict]):
        self.entries = list(entries)
        self._lock = threading.Lock()  # one connection, shared by the threads of a web process
        self._db: sqlite3.Connection | None = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            self._db.execute("CREATE VIRTUAL TABLE faq USING fts5(question, keywords, answer, tokenize='porter')")
        except sqlite3.OperationalError as exc:  # an SQLite built without FTS5: no FAQ answers offline
            log.error("SQLite has no FTS5 (%s): FAQ questions will not be answered offline", exc)
            self._db = None
            return
        self._db.executemany("INSERT INTO faq(rowid, question, keywords, answer) VALUES (?, ?, ?, ?)",
                             [(i, e["question"], " ".join(e.get("keywords") or ()), e["answer"])
                              for i, e in enumerate(self.entries)])

    def best(self, question: str) -> dict | None:
        """The entry that answers `question`, or None when none covers its content words."""
        terms, db = content_words(question), self._db
        if not terms or db is None:
            return None
        match = " OR ".join(f'"{t}"' for t in terms)
        with self._lock:
            # weights: a hit in the question or keywords counts more than one in the answer
            ranked = db.execute("SELECT rowid FROM faq WHERE faq MATCH ? ORDER BY bm25(faq, 4.0, 3.0, 1.0) "
                                "LIMIT 3", (match,)).fetchall()
            holding = {t: {r for (r,) in db.execute("SELECT rowid FROM faq WHERE faq MATCH ?", (f'"{t}"',))}
                       for t in terms}
        for (rowid,) in ranked:
            covered = sum(1 for t in terms if rowid in holding[t])
            if covered / len(terms) >= MIN_COVERAGE:
                return self.entries[rowid]
        return None


def content_words(text: str) -> list[str]:
    """The words of a question that name its topic, at most 12 (a question is short)."""
    words = [w for w in _WORD.findall(text.lower().replace("’", "'"))
             if w not in FUNCTION_WORDS and len(w) > 1 and not w.isdigit()]  # a ZIP code is not a topic
    return list(dict.fromkeys(words))[:12]
