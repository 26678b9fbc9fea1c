"""Names and delivery addresses as people give them: "My name is Ana Lima", "it's 12 Main St".

A name is what follows the lead-in ("my name is", "I'm", "call me"...), without politeness; an
address must look like one (a number and a word, a street word, or three comma-separated parts)
unless the shop relaxes that (ADDRESS_CHECK=lenient: any 6+ characters with a letter). Everything
here works word by word, so it is linear in the line.
"""
from __future__ import annotations

import re

DETAIL_STEPS = ("name", "address")  # where a conversation waits for a name or an address
MAX_NAME, MAX_ADDRESS = 80, 200

_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "heya", "yo", "hola", "morning", "evening", "afternoon"})
_POLITE = frozenset({"here", "thanks", "thank", "you", "please", "pls", "plz", "thx", "ty", "cheers"})
_NAME_LEADS = sorted((tuple(lead.split()) for lead in (
    "my name is", "my name's", "my names", "the name is", "the name's", "name is", "name's", "names", "name",
    "my full name is", "full name", "i am", "i'm", "im", "it is", "it's", "its", "this is", "call me",
    "you can call me", "just call me", "they call me", "i go by", "my name is just", "it's just", "just",
)), key=len, reverse=True)
_ADDRESS_LEADS = sorted((tuple(lead.split()) for lead in (
    "my address is", "my address's", "my address", "the address is", "address is", "address", "my new address is",
    "new address is", "new address", "the new address is", "it is", "it's", "its", "deliver to", "deliver it to",
    "delivery to", "delivery address is", "delivery address", "my delivery address is", "send it to", "send to",
    "ship to", "i live at", "i'm at", "im at", "we're at", "we are at", "we live at", "to",
)), key=len, reverse=True)
# words that hardly occur outside an address (in English and a few other languages customers write
# in); everyday words that streets are also named with (house, park, way, place) are left out
STREET_WORDS = frozenset("""
street st str road rd avenue ave av lane ln drive dr boulevard blvd court ct pl square sq terrace crescent
cres highway hwy parkway pkwy alley gardens grove mews apt apartment flat unit suite ste floor fl building
bldg block po box route rte circle cir trail plaza calle carrera avenida rua rue strasse straße via viale
piazza sector colony nagar marg
""".split())
_WORD = re.compile(r"[^\W_]+")


def _strip(text: str) -> tuple[list[str], list[str]]:
    words = " ".join(text.replace("’", "'").split()).split(" ")
    return words, [w.lower().strip(",.!?:;") for w in words]


def _after_lead(low: list[str], start: int, leads: list[tuple[str, ...]]) -> int:
    for lead in leads:
        if tuple(low[start:start + len(lead)]) == lead:
            return start + len(lead)
    return start


def _core(text: str, leads: list[tuple[str, ...]]) -> str:
    """The words after a greeting and a lead-in, without trailing politeness, as typed."""
    words, low = _strip(text)
    i = 1 if low and low[0] in _GREETINGS else 0
    i = _after_lead(low, i, leads)
    j = len(words)
    while j > i and low[j - 1] in _POLITE:
        j -= 1
    return " ".join(words[i:j]).strip(" ,.!?:;")


def read_name(text: str) -> str | None:
    """"My name is John Smith" -> "John Smith"; None when no name is left ("hi", "12345")."""
    name = _core(text, _NAME_LEADS)
    if not name or len(name) > MAX_NAME or any(ch.isdigit() for ch in name) or not any(ch.isalpha() for ch in name):
        return None
    if name.islower() or name.isupper():  # "john smith" -> "John Smith"
        name = " ".join(w[:1].upper() + w[1:].lower() for w in name.split())
    return name


def looks_like_address(text: str) -> bool:
    """A house number beside two words, a street word, or three comma-separated parts."""
    words = _WORD.findall(text.lower())
    letters = [w for w in words if w.isalpha() and len(w) >= 2]
    if len(text) < 6 or not letters or text.rstrip().endswith("?"):
        return False
    numbered = any(ch.isdigit() for ch in text) and len(letters) >= 2
    street = any(w in STREET_WORDS for w in words) and len(words) >= 2
    parts = sum(1 for part in text.split(",") if _WORD.search(part)) >= 3
    return numbered or street or parts


def read_address(text: str, check: str = "strict") -> str | None:
    """"my address is 12 Main St, Springfield" -> "12 Main St, Springfield"; None when it does not
    look like an address (check="strict") or is too short to be one (check="lenient")."""
    address = _core(text, _ADDRESS_LEADS)
    if not 6 <= len(address) <= MAX_ADDRESS or not any(ch.isalpha() for ch in address):
        return None
    if check == "strict" and not looks_like_address(address):
        return None
    return address


def value_after(text: str) -> str | None:
    """"change my address to 5 Oak Road" -> "5 Oak Road": what follows the first " to " or ":"."""
    low = text.lower()
    for marker in (" to ", ": ", " is now ", " should be "):
        at = low.find(marker)
        if at >= 0:
            return text[at + len(marker):].strip() or None
    return None
