"""Which Gemini model, and how each family must be asked: thinking, temperature, output room.

Read on 2026-11-30 through the search tool (stored copies of Google's pages):
- ai.google.dev "Gemini 3.5 Flash-Lite" model page: model code `gemini-3.5-flash-lite`, stable,
  structured output and thinking supported (page updated July 2026).
- ai.google.dev "What's new in Gemini 3.6 Flash and 3.5 Flash-Lite": both "previous-generation
  releases of the Gemini 3 series, still available for production"; the newest Flash is
  `gemini-3.8-flash`; default thinking level of 3.5 Flash-Lite: minimal, of 3.6 Flash: medium.
- docs.cloud.google.com "Gemini 3.5 Flash-Lite": "a suitable replacement model for Gemini 2.5
  Flash"; MINIMAL thinking "for latency-sensitive ... classification and extraction tasks ... JSON
  extraction"; custom temperature, top-K and top-P "aren't supported ... will be ignored".
- docs.cloud.google.com "Thinking" and the 3.5 / 3.8 Flash developer guides: supported
  thinking_level values per model: 3.5 Flash-Lite, 3.1 Flash-Lite, 3.5 Flash and 3.6 Flash take
  MINIMAL..HIGH; 3.7 Flash, 3.8 Flash and 3.1 Pro take LOW..HIGH (no MINIMAL). Gemini 3 models
  think by default; temperature, top_p and top_k "are no longer recommended for Gemini 3.x models".
  Setting thinking_level and thinking_budget together is a 400.
- ai.google.dev "Gemini deprecations": the newest stored copy lists `gemini-2.5-flash` for shutdown
  on June 17, 2026 and `gemini-2.0-flash*` (shut down June 1, 2026); later third-party notices
  quoting that page (read Nov 10, 2026) give gemini-2.5-flash's shutdown as December 1, 2026, with
  requests rerouted to gemini-3.5-flash-lite, and some proxies answering 503 for it since Nov 12.

So the default is `gemini-3.5-flash-lite`: generally available, Google's named replacement for
2.5 Flash, built for fast JSON extraction, and its lowest thinking level (minimal) is its default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MODEL = "gemini-3.5-flash-lite"
# The Developer API version every call is pinned to: google-genai 3.4 defaults to "v1", which
# refuses systemInstruction, responseMimeType/responseSchema and thinkingConfig
# (googleapis/python-genai#1837); "v1beta" accepts all three, and is what Google's docs use.
API_VERSION = "v1beta"

# Known retirements, as read on the dates above: said by `bot doctor`, never enforced (Google
# may reroute or extend; a 404 from the API is what counts).
RETIRING = {
    "gemini-2.5-flash": "deprecated: Google's deprecations page gives its shutdown (June 2026, then "
                        "December 1, 2026; requests rerouted to gemini-3.5-flash-lite)",
    "gemini-2.5-pro": "deprecated: shutdown announced for 2026",
    "gemini-2.0-flash": "shut down on June 1, 2026",
    "gemini-2.0-flash-001": "shut down on June 1, 2026",
    "gemini-2.0-flash-lite": "shut down on June 1, 2026",
    "gemini-2.0-flash-lite-001": "shut down on June 1, 2026",
    "gemini-3.1-flash-lite-preview": "shut down on May 25, 2026 (use gemini-3.1-flash-lite)",
}

_NAME = re.compile(r"(?:models/)?gemini-(\d+)(?:\.(\d+))?-(flash-lite|flash|pro)\b")


@dataclass(frozen=True)
class Family:
    """How to ask one model: its generation, and the settings Google recommends for a fast reading."""

    name: str  # e.g. "3.5 flash-lite", or "other"
    thinking_budget: int | None = None  # 2.x: tokens of thinking (0 = none)
    thinking_level: str | None = None  # 3.x: the lowest level the model accepts (MINIMAL or LOW)
    temperature: float | None = None  # None: the model's default (Google's advice for Gemini 3)
    max_output_tokens: int = 2048


def family_of(model: str) -> Family:
    """The request settings for `model` (a name like gemini-3.5-flash-lite or gemini-2.5-flash)."""
    m = _NAME.match(model.lower())
    if not m:
        return Family("other")  # nothing we know to ask: no thinking config, default temperature
    major, minor, kind = int(m[1]), int(m[2] or 0), m[3]
    name = f"{major}.{minor} {kind}"
    if major < 2 or (major == 2 and minor < 5):
        return Family(name, temperature=0)  # no thinking at all before 2.5
    if major == 2:
        # 2.5 Flash and Flash-Lite can stop thinking (budget 0); 2.5 Pro cannot, 128 is its least
        return Family(name, thinking_budget=128 if kind == "pro" else 0, temperature=0)
    if kind == "flash-lite" or (kind == "flash" and (major, minor) <= (3, 6)):
        return Family(name, thinking_level="MINIMAL")
    # 3.7 Flash and later Flash, and every Pro: LOW is their least (MINIMAL is refused); thinking
    # tokens count against the output, so leave room for the JSON after them
    return Family(name, thinking_level="LOW", max_output_tokens=8192)
