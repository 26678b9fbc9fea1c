"""The cascade: the offline reading comes first, and the model is asked only when it can add something.

A line the offline parser reads with certainty ("yes", "2", "done", "2 kg of apples") never reaches
the model: its reading is what the model would say, at no cost and with no wait. The model is asked
when the parser is unsure, and the reason is counted (`nlu_asked:<reason>`):

  language       the line looks like another language (the parser reads English only)
  unknown_words  product-like words that match nothing in the catalog
  ambiguous      a name that fits several products
  unreadable     no intent at all
  question       a question: only the model can answer from the catalog and the FAQ
  long           a command word inside a long line ("yes but take the eggs off first")

Never asked, whatever the line: the private steps (verify, register, the delivery address, a new
name or address typed from the menu), phone numbers, codes and bare numbers (there is no language
in digits), a change of name or address (a fixed phrase), empty lines. Nor a question the offline
reading answers exactly from the catalog (a price, stock, an aisle).
"""
from __future__ import annotations

from bot.nlu.language import foreign_language
from bot.nlu.types import NluContext, NluResult

PRIVATE_STATES = frozenset({"verify", "register", "address"})  # phone numbers, codes, names and addresses
PRIVATE_STEPS = frozenset({"name", "address"})  # a new name or address typed from the menu or at confirm
# digits have no language in them; a change of name or address is a fixed phrase: nothing to ask
DIGIT_INTENTS = frozenset({"phone", "code", "choice", "change_name", "change_address"})
COMMANDS = frozenset({"greeting", "order", "show_cart", "clear_cart", "checkout", "yes", "no", "menu", "help",
                      "cancel", "restart", "status", "cancel_order", "delete_data", "human"})
EXACT_ANSWERS = frozenset({"price", "stock", "list", "categories", "missing"})  # offline `asked` kinds
MAX_COMMAND_WORDS = 6  # a command is a few words; a longer line may say more than the keyword found


def private(text: str, ctx: NluContext, offline: NluResult) -> bool:
    """Lines the model must never see."""
    return ctx.state in PRIVATE_STATES or ctx.step in PRIVATE_STEPS or offline.intent in DIGIT_INTENTS \
        or not text.strip()


def why_ask(text: str, ctx: NluContext, offline: NluResult, unplaced: bool = False) -> str | None:
    """Why the model should read this line, or None when the offline reading is certain (or private).
    `unplaced`: words the parser could not place, even where it does not report them."""
    if private(text, ctx, offline):
        return None
    if offline.intent == "other_language" or foreign_language(text):
        return "language"
    if offline.unknown or unplaced:
        return "unknown_words"
    if offline.ambiguous:
        return "ambiguous"
    if offline.intent == "unknown":
        return "unreadable"
    if offline.intent == "question":  # a price, stock or aisle is exact offline; a description or an FAQ
        return None if (offline.asked or {}).get("kind") in EXACT_ANSWERS else "question"  # match is a guess
    if offline.intent == "add_items":
        return None  # every product named was found, and every amount read (or refused by the shop's rules)
    if offline.intent in COMMANDS:
        return "long" if len(text.split()) > MAX_COMMAND_WORDS else None
    return "unreadable"
