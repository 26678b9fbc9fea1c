"""Customer text as it enters Orderline: normalised, bounded, and free of invisible control codes.

Emoji and right-to-left scripts are kept as written; what goes is what no person types on purpose
(NUL and other C0/C1 controls) and bidi overrides, which can make a dashboard show text reversed.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 4096  # Telegram's own limit; longer texts are cut here, with a mark
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> tuple[str, bool]:
    """The text to process, and whether it was cut to MAX_CHARS."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROLS.sub("", text).strip()
    if len(text) > MAX_CHARS:
        return text[:MAX_CHARS], True
    return text, False
