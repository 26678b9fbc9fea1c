"""Figures the operators read from the orders themselves (the book of record), not from counters:
revenue with cancelled and expired orders apart, so "Revenue" never includes money the shop did
not take."""
from __future__ import annotations

from bot.store.repository import Db, translate_errors

UNDONE = ("cancelled", "expired")  # placed, then not taken: stock and slot went back


@translate_errors
class Revenue:
    """Revenue from the orders of record, with undone orders apart."""

    def __init__(self, db: Db) -> None:
        self.orders = db.orders

    def totals(self, since: float | None = None) -> dict:
        """{"kept": cents, "kept_orders": n, "undone": cents, "undone_orders": n, "by_channel": {ch: kept}}
        over orders placed (since `since`, if given)."""
        match: dict = {"status": {"$nin": ["pending", "failed"]}}
        if since is not None:
            match["created_at"] = {"$gte": since}
        out: dict = {"kept": 0, "kept_orders": 0, "undone": 0, "undone_orders": 0, "by_channel": {}}
        for row in self.orders.aggregate([
                {"$match": match},
                {"$group": {"_id": {"channel": "$channel", "status": "$status"}, "n": {"$sum": 1},
                            "cents": {"$sum": "$total_cents"}}}]):
            kind = "undone" if row["_id"]["status"] in UNDONE else "kept"
            out[kind] += row["cents"]
            out[kind + "_orders"] += row["n"]
            if kind == "kept":
                channel = row["_id"].get("channel") or "unknown"
                out["by_channel"][channel] = out["by_channel"].get(channel, 0) + row["cents"]
        out["by_channel"] = dict(sorted(out["by_channel"].items()))
        return out
