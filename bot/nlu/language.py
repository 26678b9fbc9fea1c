"""Does a line look like it is not English? The offline parser reads English only, and says so
politely instead of answering a Spanish line with "I couldn't find 'quiero dos manzanas'".

A cheap guess, not a language detector: a script other than Latin, or words that are common in
another language and rare in English. With Gemini on, the model reports the language itself.
"""
from __future__ import annotations

import re
import unicodedata

# Frequent words of languages customers are likely to write in, chosen to be rare in English
# (and in grocery names): each counts as a vote for its language.
_MARKERS = {
    "es": """hola quiero quisiera necesito dame deme por favor gracias buenos buenas días dias tardes noches
             cuánto cuanto cuánta cuándo cuando dónde donde tienen tiene entregan envían pedido pedir
             comprar manzanas plátanos leche huevos queso también tambien sí señor usted cómo como
             está esta estoy qué mis los las una unos eso""",
    "fr": """bonjour bonsoir salut merci voudrais veux je j'ai nous vous avez s'il plaît plait svp oui
             combien quand livrez livraison commande commander acheter pommes lait oeufs œufs fromage
             aussi avec des du une c'est est qu'est ça rien""",
    "de": """hallo guten ich möchte moechte bitte danke haben sie wir liefern bestellung kaufen äpfel milch
             eier käse brot auch noch nichts wieviel wann""",
    "pt": """olá ola quero gostaria preciso obrigado obrigada bom dia tarde você voce vocês entregam pedido
             comprar maçãs leite ovos queijo também""",
    "hi": """namaste namaskar mujhe chahiye kya hai kitna kitne kab aap dijiye dena doodh ande seb aur
             nahin nahi haan shukriya dhanyavad""",
}
_VOTES = {w: lang for lang, words in _MARKERS.items() for w in words.split()}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SCRIPTS = (("DEVANAGARI", "hi"), ("ARABIC", "ar"), ("CYRILLIC", "ru"), ("CJK", "zh"), ("HIRAGANA", "ja"),
            ("KATAKANA", "ja"), ("HANGUL", "ko"), ("GREEK", "el"), ("HEBREW", "he"), ("THAI", "th"),
            ("BENGALI", "bn"), ("TAMIL", "ta"), ("TELUGU", "te"), ("GURMUKHI", "pa"), ("GUJARATI", "gu"))


def script_language(text: str) -> str | None:
    """The language a non-Latin script suggests ("hi" for Devanagari), or None for Latin text."""
    for ch in text:
        if ch.isalpha() and ord(ch) > 0x24F:
            name = unicodedata.name(ch, "")
            for script, lang in _SCRIPTS:
                if name.startswith(script):
                    return lang
            return "und"
    return None


def foreign_language(text: str) -> str | None:
    """The language `text` seems to be written in when it is not English (an ISO 639-1 guess, or
    "und"), or None when it may well be English."""
    by_script = script_language(text)
    if by_script:
        return by_script
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text.replace("’", "'"))]
    if not words:
        return None
    votes: dict[str, int] = {}
    for w in words:
        if w in _VOTES:
            votes[_VOTES[w]] = votes.get(_VOTES[w], 0) + 1
    accented = sum(1 for w in words if any(unicodedata.decomposition(c) for c in w))
    best = max(votes, key=lambda lang: votes[lang]) if votes else None
    strength = (votes.get(best, 0) if best else 0) + accented
    if best and (strength >= 2 or (strength >= 1 and len(words) <= 2)):
        return best
    return None
