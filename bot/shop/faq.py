"""The FAQ the language model may cite: the shop's faq.json, with the entries about the rules
(fees, minimum, areas, hours, slots, payment) generated from the shop file in place of any the
JSON has, so an answer can only state what checkout applies. Opening hours and delivery times
are generated only when the shop file sets them; otherwise faq.json's words about them stay."""
from __future__ import annotations

from statemachine.shopinfo import faq_entries


def with_rules(entries: list[dict], rules, currency: str) -> list[dict]:
    generated = faq_entries(rules, currency)
    topics = {e["topic"] for e in generated}
    return generated + [e for e in entries if e["topic"] not in topics]
