"""SMS bodies: GSM-7 where harmless, and segment-aware.

One character outside GSM-7 (a bullet "•", a dash "—", a times sign "×", curly quotes) switches
the whole SMS to UCS-2: 70 characters per segment instead of 160, so a cart summary costs three
times as much. We swap such characters for plain ones that read the same; text that truly needs
UCS-2 (a name in another script) stays as it is. Long texts split at line ends, never mid-word.
"""
from __future__ import annotations

import math

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = set("^{}\\[~]|€\f")  # two septets each

REPLACEMENTS = {
    "•": "*", "·": "*", "—": "-", "–": "-", "−": "-", "×": "x", "’": "'", "‘": "'", "“": '"', "”": '"',
    "…": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "₹": "Rs",
}  # punctuation and symbols only: letters (a customer's name) are never changed
MAX_SEGMENTS = 10  # Twilio's recommended ceiling for one concatenated SMS (1,530 GSM-7 characters)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def plain(text: str) -> str:
    """Swap UCS-2-forcing punctuation for GSM-7 look-alikes; a bullet at a line's start becomes '-'."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("• "):
            line = "- " + line[2:]
        lines.append("".join(REPLACEMENTS.get(ch, ch) for ch in line))
    return "\n".join(lines)


def segments(text: str) -> tuple[str, int]:
    """('GSM-7' | 'UCS-2', how many SMS segments the text costs)."""
    if is_gsm7(text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return "GSM-7", 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else math.ceil(units / 67)


def split(text: str, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """The text as few SMS bodies as possible, each at most `max_segments` segments, cut at line ends."""
    if segments(text)[1] <= max_segments:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, max_segments):
        candidate = f"{current}\n{piece}" if current else piece
        if segments(candidate)[1] <= max_segments:
            current = candidate
        else:
            parts.append(current)
            current = piece
    return parts + ([current] if current else [])


def _pieces(text: str, max_segments: int) -> list[str]:
    """Lines, with any single line too long for one body cut at word boundaries."""
    out: list[str] = []
    for line in text.split("\n"):
        while segments(line)[1] > max_segments:
            words, head = line.split(" "), ""
            while words and segments(f"{head} {words[0]}".strip())[1] <= max_segments:
                head = f"{head} {words.pop(0)}".strip()
            if not head:  # one enormous word: cut it by characters
                cut = max_segments * 67
                head, words = line[:cut], [line[cut:]]
            out.append(head)
            line = " ".join(words)
        out.append(line)
    return out


def for_sms(text: str) -> list[str]:
    """What goes out by SMS for one reply: plain characters, blank lines dropped, split if huge."""
    body = "\n".join(line.rstrip() for line in plain(text).split("\n") if line.strip())
    return split(body)
