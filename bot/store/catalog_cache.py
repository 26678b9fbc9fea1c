"""The products snapshot a process converses with, read from the store and refreshed when stale or
when the catalog's version in Redis moves (an operator's edit, an import)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from redis import Redis

from bot.common import redis_keys
from bot.shop.catalog import Catalog
from bot.store import Store


class CatalogCache:
    """The products snapshot a process converses with; reloaded when stale or when the catalog changes.

    An operator's edit or an import bumps the catalog version: every process sees the new version
    within CHECK_EVERY seconds (one GET) and reloads at once. Stock moved by orders does not bump it:
    the snapshot is reloaded every `max_age` seconds anyway. Stock in the snapshot is a courtesy for
    replies ('only 3 left'); placement re-reads the store.
    """

    CHECK_EVERY = 0.2  # seconds between looks at the catalog version

    def __init__(self, store: Store, redis: Redis, max_age: float = 2.0,
                 on_change: Callable[[Catalog], None] | None = None) -> None:
        self.store, self.redis, self.max_age = store, redis, max_age
        self.on_change = on_change  # called with the new Catalog when names/prices changed
        self._catalog = Catalog([])
        self._version: bytes | str | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._refreshing = threading.Lock()

    def _due(self, fresh: bool = False) -> bool:
        now = time.monotonic()
        if now - self._loaded_at >= self.max_age:
            return True
        if fresh or now - self._checked_at >= self.CHECK_EVERY:
            self._checked_at = now
            return self.redis.get(redis_keys.CATALOG_VERSION) != self._version
        return False

    def current(self, fresh: bool = False) -> Catalog:
        """The snapshot; one lane refreshes a stale one while the others go on with it. `fresh`: look
        at the catalog version now, and wait for the reload (a change announced a moment ago)."""
        if self._due(fresh):
            first = fresh or not self._loaded_at
            if self._refreshing.acquire(blocking=first):
                try:
                    self.refresh()
                finally:
                    self._refreshing.release()
        return self._catalog

    def refresh(self) -> Catalog:
        version = self.redis.get(redis_keys.CATALOG_VERSION)
        products = self.store.products.all()
        content_changed = version != self._version or len(products) != len(self._catalog)
        catalog = Catalog(products)
        if content_changed and self.on_change:
            self.on_change(catalog)  # before the snapshot is published: no lane sees it without its parser
        self._catalog, self._version, self._loaded_at = catalog, version, time.monotonic()
        return catalog

    def bump(self) -> None:
        """Tell every process that names or prices changed (after an import or an operator edit)."""
        announce_change(self.redis)
        self._loaded_at = 0.0


def announce_change(redis: Redis) -> None:
    """The catalog changed (an import, an operator's edit): every process reloads its snapshot."""
    redis.incr(redis_keys.CATALOG_VERSION)
