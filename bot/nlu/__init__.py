"""Understanding text: one entry point, `understand(text, ctx) -> NluResult`, whatever the backend.

The offline parser always exists (the conversation works fully offline); a language-model backend,
when configured, sits in front of it and falls back to it.
"""
from __future__ import annotations

from .types import NluContext, NluResult, Understander


class Understanding:
    """The process's understander. `use_catalog` is called whenever product names or prices change."""

    def __init__(self, max_quantity: int = 50):
        self.max_quantity = max_quantity
        self.offline = None

    def use_catalog(self, catalog) -> None:
        from .offline import OfflineParser

        self.offline = OfflineParser(catalog, self.max_quantity)

    def understand(self, text: str, ctx: NluContext) -> NluResult:
        if self.offline is None:
            raise RuntimeError("no catalog loaded: call use_catalog() first")
        return self.offline.understand(text, ctx)


def build_understander(settings, runtime=None) -> Understanding:
    return Understanding(settings.MAX_ITEM_QUANTITY)


__all__ = ["NluContext", "NluResult", "Understander", "Understanding", "build_understander"]
