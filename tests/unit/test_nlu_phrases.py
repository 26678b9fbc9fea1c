"""Whole-line phrases are matched word by word: the same answers as the old repeating regex, in
linear time, on lines a customer could send from any channel before being identified."""
from __future__ import annotations

import re
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu import intents
from bot.nlu.phrases import MAX_PHRASE_WORDS, Phrases, words_of

VOCABULARIES = {name: getattr(intents, name) for name in
                ("_YES", "_NO", "_GREETING", "_CHECKOUT", "_MENU", "_HELP", "_CANCEL", "_RESTART", "_ORDER_LINE")}


def _old(p: Phrases) -> re.Pattern:
    """The exponential regex the vocabularies used to be compiled into (kept here as the oracle), with
    two differences made on purpose: a question mark after a space ends a phrase too ("done ?"), and
    the words of one phrase may be parted by punctuation as well as spaces ("all, done"): the matcher
    reads words, not characters."""
    def words(pattern: str) -> str:
        return pattern.replace(" ?", r"[\s,!.]*").replace(" ", r"[\s,!.]+")

    lead = rf"(?:(?:{words(p.lead.pattern)})[\s,!.]+)?" if p.lead else ""
    body = words(p.pattern)
    return re.compile(rf"{lead}(?:{body})(?:[\s,!.]+(?:{body}))*(?:[\s,!.]*\?)?")


def _finishes_within(seconds: float, fn, *args) -> bool:
    done = threading.Event()
    threading.Thread(target=lambda: (fn(*args), done.set()), daemon=True).start()
    return done.wait(seconds)


def test_the_reported_blow_up_answers_at_once():
    line = "hi there " * 24 + "zz"  # took 7 s; every two more repeats x4
    assert _finishes_within(2, intents.command, line)
    assert intents.command(line) is None
    assert intents.command(("hi there " * 12).strip()) == "greeting"


@given(st.sampled_from(sorted(VOCABULARIES)), st.data())
@settings(max_examples=300, deadline=None)
def test_no_phrase_is_longer_than_the_matcher_looks(name, data):
    phrase = data.draw(st.from_regex(re.compile(rf"(?:{VOCABULARIES[name].pattern})"), fullmatch=True))
    assert len(words_of(phrase.lower())) <= MAX_PHRASE_WORDS


@given(st.sampled_from(sorted(VOCABULARIES)), st.data())
@settings(max_examples=400, deadline=None)
def test_same_answers_as_the_old_regex_on_short_lines(name, data):
    p = VOCABULARIES[name]
    pieces = data.draw(st.lists(st.one_of(
        st.from_regex(re.compile(rf"(?:{p.pattern})"), fullmatch=True).filter(lambda s: s.isascii()),
        st.sampled_from(["yes", "no", "hi", "there", "done", "that's", "all", "zz", "2", "apples", "?"]),
    ), min_size=1, max_size=4))
    seps = data.draw(st.lists(st.sampled_from([" ", ", ", "! ", ". ", " , "]), min_size=len(pieces), max_size=len(pieces)))
    line = "".join(s + w for s, w in zip(["", *seps], pieces, strict=False)) + data.draw(st.sampled_from(["", "?"]))
    line = " ".join(line.split())
    assert p.fullmatch(line) == bool(_old(p).fullmatch(line)), line


@given(st.lists(st.sampled_from(["hi", "there", "hello", "yes", "no", "done", "that's", "it", ",", "zz", "?"]),
                min_size=1, max_size=2000))
@settings(max_examples=60, deadline=500)
def test_any_length_stays_fast(words):
    line = " ".join(words)
    for p in VOCABULARIES.values():
        p.fullmatch(line)
    assert intents.command(line) in (None, "greeting", "yes", "no", "checkout", "help")
