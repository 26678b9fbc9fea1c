"""Replies phrased for the ear: how the voice channel renders the conversation's text for <Say>.

The conversation's prompts are written for screens ("• 2 kg × Apples — $5.98", "1. Place an
order", "(yes / no)"). A text-to-speech voice reads those badly, so the voice channel rewrites
them: no bullets or emojis, "2 kg × Apples" as "2 kilograms of Apples", "$8.78" as "8 dollars
and 78 cents", numbered lists as "say or press 1 for ..., or 2 for ...", and typing words as
speaking and keypad words. The prompts themselves stay as they are (statemachine/prompts.py).
"""
from __future__ import annotations

import re
import unicodedata

# (singular, plural) for the catalog's units; "each" has no word
UNITS = {
    "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"),
    "l": ("litre", "litres"), "ml": ("millilitre", "millilitres"),
    "pack": ("pack", "packs"), "bag": ("bag", "bags"), "box": ("box", "boxes"), "jar": ("jar", "jars"),
    "bottle": ("bottle", "bottles"), "can": ("can", "cans"), "loaf": ("loaf", "loaves"), "bunch": ("bunch", "bunches"),
}
CURRENCY_WORDS = {  # symbol -> (one, many, one cent, many cents)
    "$": ("dollar", "dollars", "cent", "cents"), "A$": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "C$": ("Canadian dollar", "Canadian dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"), "₹": ("rupee", "rupees", "paisa", "paise"),
}
# Screen wording -> spoken wording (exact phrases from the prompts, applied in order).
PHRASES = (
    ("Shall I place it? (yes / no)", "Shall I place it? Say yes or no."),
    ("(yes / no)", "Say yes or no."),
    ("Reply with the number, or 'menu'.", "Or say menu."),
    ("Reply with the number, or 'later' for later slots.", "Or say later, for later times."),
    ("Reply with the number.", ""),
    ("Reply YES to delete everything", "Say yes to delete everything"),
    ("Please pick a number from the menu.", "Please say or press a number from the menu."),
    ("Please type it here.", "Please say it, or key it in."),
    ("share your phone number, or type it with the country code (for example +1 415 555 2671).",
     "say your phone number, or key it in."),
    ("Please type it with the country code, like +1 415 555 2671.", "Please say it or key it in, with the area code."),
    ("please type your message", "please say what you need"),
    ("order by typing what you need", "order by telling me what you need"),
)
MONTHS = {"Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "May": "May", "Jun": "June",
          "Jul": "July", "Aug": "August", "Sep": "September", "Oct": "October", "Nov": "November", "Dec": "December"}
NUMBERED = re.compile(r"^(\d{1,2})\.\s+(.+)$")
MONEY = re.compile(r"(A\$|C\$|[$€£₹])(\d[\d,]*)\.(\d{2})(?:/(\w+))?")
TIMES = re.compile(r"(\d+(?:\.\d+)?)(?: (\w+))? × ")
QUANTITY = re.compile(r"\b(\d+(?:\.\d+)?) (kg|g|l|ml)\b")
MASKED_PHONE = re.compile(r"\+\d{1,3} ••• ••• (\d{4})")
DAY = re.compile(r"\b(" + "|".join(MONTHS) + r") 0?(\d{1,2})\b")
WEEKDAYS = {"Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday",
            "Sat": "Saturday", "Sun": "Sunday"}
WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r") (?=(?:" + "|".join(MONTHS) + r") \d)")  # "Thu Jan 14"
MINIMUM = re.compile(r"(A\$|C\$|[$€£₹])(\d[\d,]*) minimum\b")  # "the $20 minimum": a 20-dollar minimum
WHOLE_MONEY = re.compile(r"(A\$|C\$|[$€£₹])(\d[\d,]*)(?![\d,.]*\d)")  # "$20" in "the $20 minimum"
TIME_RANGE = re.compile(r"(\d{1,2}(?::\d{2})? [AP]M)\s*–\s*(?=\d)")  # a slot: "1 PM–3 PM"
QUOTED = re.compile(r"(?<!\w)['\"“‘]([^'\"”’\n]+?)['\"”’](?!\w)")


def for_the_ear(text: str) -> str:
    """One reply's text as a speech voice should say it."""
    text = "".join(ch for ch in text if not _is_emoji(ch))
    for screen, spoken in PHRASES:
        text = text.replace(screen, spoken)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    sentences: list[str] = []
    i = 0
    while i < len(lines):
        options: list[tuple[str, str]] = []
        while i < len(lines) and (numbered := NUMBERED.match(lines[i])):
            options.append((numbered.group(1), numbered.group(2)))
            i += 1
        if options:
            sentences.append(_read_options(options))
            continue
        sentences.append(_sentence(lines[i]))
        i += 1
    return _words(" ".join(s for s in sentences if s))


def _read_options(options: list[tuple[str, str]]) -> str:
    parts = [f"{n} for {_option(label)}" for n, label in options]
    if len(parts) > 1:
        parts[-1] = "or " + parts[-1]
    return "Say or press " + ", ".join(parts) + "."


def _option(label: str) -> str:
    """'Whole milk ($1.29/l)' -> 'Whole milk, at $1.29/l'; '#12 (Jan 03, $9.47)' -> '#12, Jan 03, $9.47'."""
    m = re.fullmatch(r"(.*?) \((.*)\)", label)
    if m:
        inner = m.group(2)
        return f"{m.group(1)}, {'at ' if MONEY.fullmatch(inner) else ''}{inner}"
    return label


def _sentence(line: str) -> str:
    line = line.lstrip("•*- ").strip()
    line = line.replace(" — ", ", ").replace("—", ", ")
    return line if not line or line[-1] in ".?!:" else line + "."


def _words(text: str) -> str:
    text = MASKED_PHONE.sub(lambda m: "the number ending in " + " ".join(m.group(1)), text)
    text = MONEY.sub(_money, text)
    text = MINIMUM.sub(lambda m: f"{m.group(2)}-{CURRENCY_WORDS[m.group(1)][0]} minimum", text)
    text = WHOLE_MONEY.sub(lambda m: _money_whole(m.group(1), int(m.group(2).replace(",", ""))), text)
    text = TIME_RANGE.sub(r"\1 to ", text)
    text = WEEKDAY.sub(lambda m: WEEKDAYS[m.group(1)] + " ", text)
    text = TIMES.sub(_times, text)
    text = QUANTITY.sub(lambda m: f"{_amount(m.group(1), m.group(2))}", text)
    text = re.sub(r"#(\d+)", r"number \1", text)
    text = DAY.sub(lambda m: f"{MONTHS[m.group(1)]} {m.group(2)}", text)
    text = QUOTED.sub(r"\1", text)
    text = re.sub(r"\(([^()]*[.?!])\)", r"\1", text)  # a whole sentence in parentheses: just say it
    text = re.sub(r"\s*\(([^()]*)\)", r", \1,", text)  # "Apples (Gala)" -> "Apples, Gala,"
    text = text.replace("•", "").replace("×", "")
    text = re.sub(r",\s*([,.?!:])", r"\1", text)  # tidy what the rewrites left
    text = re.sub(r"([.?!])\.+", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def _is_emoji(ch: str) -> bool:
    """Emojis, pictographs, their modifiers and joiners: a voice would read them out or stumble."""
    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or ch in "\u200d\ufe0f"


def _money(m: re.Match[str]) -> str:
    one, many, cent, cents = CURRENCY_WORDS[m.group(1)]
    whole, fraction = int(m.group(2).replace(",", "")), int(m.group(3))
    parts = []
    if whole or not fraction:
        parts.append(f"{whole} {one if whole == 1 else many}")
    if fraction:
        parts.append(f"{fraction} {cent if fraction == 1 else cents}")
    said = " and ".join(parts)
    unit = m.group(4)
    if unit:
        said += f" a {UNITS.get(unit, (unit, unit))[0]}" if unit != "each" else " each"
    return said


def _money_whole(symbol: str, whole: int) -> str:
    one, many, _, _ = CURRENCY_WORDS[symbol]
    return f"{whole} {one if whole == 1 else many}"


def _amount(quantity: str, unit: str | None) -> str:
    """'2' 'kg' -> '2 kilograms'; '0.5' 'kg' -> 'half a kilogram'; '1.5' 'l' -> '1 and a half litres'."""
    q = float(quantity)
    one, many = UNITS.get(unit or "", (unit or "", unit or ""))
    if not unit:
        return quantity
    if q == 0.5:
        return f"half a {one}"
    if q == 1:
        return f"1 {one}"
    if q % 1 == 0.5:
        return f"{int(q)} and a half {many}"
    return f"{quantity} {many}"


def _times(m: re.Match[str]) -> str:
    """'2 kg × ' -> '2 kilograms of '; '12 × ' -> '12 '."""
    quantity, unit = m.group(1), m.group(2)
    if unit is None or unit == "each":
        return f"{quantity} "
    return f"{_amount(quantity, unit)} of "
