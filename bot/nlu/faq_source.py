"""The shop's FAQ as the prompt sees it: bot/data/faq.json, re-read when the shop edits the file.

A file broken by an edit keeps the last good FAQ in use (and says so in the log), so a typo in
the FAQ never takes understanding down.
"""
from __future__ import annotations

import logging
from pathlib import Path

from bot.shop.faq import FaqError, faq_path, load_faq, with_rules
from bot.shop.rules_source import ShopSource
from statemachine.rules import ShopRules

log = logging.getLogger("orderline.nlu")


class FaqSource:
    """The FAQ file's entries, with those the shop's rules make (from `shop`) in place of the file's."""

    def __init__(self, path: str | Path | None = None, shop: ShopSource | None = None, currency: str = "USD"):
        self.path = Path(path or faq_path())
        self.shop, self.currency = shop, currency
        self._mtime: float | None = None
        self._entries: list[dict] = []

    def __call__(self) -> list[dict]:
        """The file's entries, with those the shop's rules make (a shop given no rules still has
        some: free delivery, no minimum, anywhere, pay on delivery)."""
        rules = self.shop.current() if self.shop is not None else ShopRules()
        return with_rules(self._file_entries(), rules, self.currency)

    def _file_entries(self) -> list[dict]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return self._entries
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self._entries = load_faq(self.path)
            except (FaqError, OSError) as exc:
                log.error("FAQ %s unreadable, keeping the previous one: %s", self.path, exc)
        return self._entries
