"""Orders: placed exactly once per confirming message, priced from the products collection.

Placement without transactions or locks (mongomock has none, and a replica set is not required):
1. insert the order as `pending`; its `_id` is derived from a key taken from the confirming
   message, so a retried or racing call's insert collides on the primary key and reads the first;
2. book the delivery slot (if any) and take each line's stock as keyed moves (moves.py): one
   conditional update per document that also records the key in that document, so a key takes
   at most once, ever (a slot's update is guarded by its capacity as stock is by what is left);
3. decide the outcome with one compare-and-set on the order, `pending` -> `confirmed` (every line
   is held for this key) or `pending` -> `failed` (a line was short); exactly one caller wins;
4. settle what the outcome means for every line, whoever decided it: placed, the held entries
   become `kept`; failed, each line is given back if it was taken, or voided if it was not, so a
   slower caller can no longer take it.

Why this holds for ANY interleaving of two `place()` calls with one key (A and B):
- a line is taken at most once, because the take requires that no entry for the key exists on the
  product, and an entry is removed only once settled and an hour old, by the same update that
  raises the product's fence, which refuses any later take for a key that old (moves.py);
- a confirmed order has every line taken: its confirmer saw an entry for each line, entries only
  move forward, and only the caller that settles a *failed* order gives anything back, and an
  order is never both;
- a failed order ends with nothing taken: settling gives back `held` entries and voids missing
  ones (a take racing the void either loses, or wins and is then given back by the next step).
So a racing caller needs no lease and never waits: it repeats the same idempotent steps, loses
the compare-and-set, and reports the outcome the winner recorded. A crash at any point leaves
a state from which the next call (the retried job) finishes the same way; `settled` on the order
spares later calls the settling writes. tests/unit/test_stock_once.py interleaves two calls at
every pair of points and crashes one at every point.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from bot.store import moves as mv
from bot.store.products import Products
from bot.store.repository import Db, Doc, translate_errors
from bot.store.slots import Slots
from statemachine.money import line_total_cents
from statemachine.rules import fee_for

CANCELLABLE = ("awaiting_payment", "confirmed", "preparing")
FLOW = ("confirmed", "preparing", "out_for_delivery", "delivered")  # forward moves an operator may make
FIRST_NUMBER = 1001


def order_id_for(key: str) -> str:
    """An order's id, derived from its idempotency key (the confirming message): opaque, stable."""
    return "o" + hashlib.sha256(key.encode()).hexdigest()[:24]


Lines = Iterable[tuple[str, float]]  # (sku, quantity) per cart line


@dataclass
class Placement:
    ok: bool
    order: dict | None = None
    short: list[dict] = field(default_factory=list)  # [{"sku", "available"}] when stock ran out
    reason: str = ""  # why not: "stock", "slot_full", or "stale" (a retry past the moves' window)

    def to_result(self) -> dict:
        if self.ok and self.order is not None:
            return {"ok": True, "id": self.order["_id"], "number": str(self.order["number"]),
                    "total_cents": self.order["total_cents"],
                    "delivery_fee_cents": self.order.get("delivery_fee_cents", 0),
                    "awaiting_payment": self.order["status"] == "awaiting_payment"}
        return {"ok": False, "short": self.short, "reason": self.reason or "stock"}


@dataclass
class Terms:
    """What an order carries besides its lines: the delivery fee rule, the slot, how it is paid."""

    delivery_fee_cents: int = 0
    free_delivery_over_cents: int | None = None
    slot: dict | None = None  # {"id", "start", "end", "label"}
    slot_capacity: int = 0
    payment: str = "on_delivery"  # or "online": placed as awaiting_payment
    area: str | None = None
    pay_within: float = 1800  # seconds an online payment may take before the order expires


@translate_errors
class Orders:
    def __init__(self, db: Db, products: Products, slots: Slots) -> None:
        self.col = db.orders
        self.counters = db.counters
        self.products = products
        self.slots = slots

    def ensure_indexes(self) -> None:
        self.col.create_index("key", name="key")  # unique by construction: _id is derived from it
        self.col.create_index("number", name="number")  # unique by construction: an atomic counter
        self.col.create_index([("phone", 1), ("created_at", DESCENDING)], name="phone_created")
        self.col.create_index([("status", 1), ("created_at", DESCENDING)], name="status_created")
        self.col.create_index([("created_at", DESCENDING)], name="created")
        self.col.create_index([("status", 1), ("payment.expires_at", 1)], name="status_pay_by")

    def _next_number(self) -> int:
        doc = self.counters.find_one_and_update({"_id": "orders"}, {"$inc": {"seq": 1}}, upsert=True,
                                                return_document=ReturnDocument.AFTER)
        return FIRST_NUMBER + int((doc or {"seq": 1})["seq"]) - 1  # upsert: always a document

    def place(self, *, key: str, phone: str, customer: dict | None, lines: Lines, address: str, channel: str,
              currency: str, identity: str | None = None, terms: Terms | None = None) -> Placement:
        """`identity` ("<channel>:<address>") is where the customer ordered: where status updates go."""
        order, missing = self._insert_pending(key, phone, customer, lines, address, channel, currency, identity,
                                              terms or Terms())
        if order is None:
            return Placement(False, short=[{"sku": s, "available": 0} for s in missing], reason="stock")
        if order["status"] == "pending":
            decided = self._reserve(order)
            if decided is None:  # another call decided first: its outcome is the order's
                self._checkpoint("read")
                decided = self._read(order["_id"])
            order = decided
        return self._settle(order)

    def _read(self, order_id: str) -> Doc:
        order = self.col.find_one({"_id": order_id})
        if order is None:  # orders are never deleted (erasure anonymises them)
            raise LookupError(f"order {order_id} vanished")
        return order

    def _checkpoint(self, point: str) -> None:
        self.products.moves.checkpoint(point)

    def _insert_pending(self, key: str, phone: str, customer: dict | None, lines: Lines, address: str, channel: str,
                        currency: str, identity: str | None, terms: Terms) -> tuple[Doc | None, list[str]]:
        """The pending order for `key` (inserted now, or by an earlier or racing call), or None and
        the skus that left the catalog."""
        self._checkpoint("insert")
        products = self.products.by_skus(sku for sku, _ in lines)
        missing = [sku for sku, _ in lines if sku not in products]  # left the catalog meanwhile
        if missing:
            existing = self.col.find_one({"_id": order_id_for(key)})  # placed before they left?
            return (existing, []) if existing else (None, missing)
        priced: list[Doc] = []
        for sku, quantity in lines:
            p = products[sku]
            priced.append({"sku": sku, "name": p.name, "unit": p.unit, "quantity": quantity,
                           "price_cents": p.price_cents, "total_cents": line_total_cents(quantity, p.price_cents)})
        now = time.time()
        items = sum(line["total_cents"] for line in priced)
        fee = fee_for(items, terms.delivery_fee_cents, terms.free_delivery_over_cents)
        order = {
            "_id": order_id_for(key), "key": key, "number": self._next_number(), "status": "pending",
            "phone": phone, "customer_id": (customer or {}).get("_id"), "customer_name": (customer or {}).get("name"),
            "address": address, "lines": priced, "items_cents": items, "delivery_fee_cents": fee,
            "total_cents": items + fee, "currency": currency, "channel": channel, "identity": identity,
            "slot": terms.slot and {k: terms.slot.get(k) for k in ("id", "start", "end", "label", "when")},
            "slot_capacity": terms.slot_capacity, "area": terms.area, "payment": _payment(terms, now),
            "created_at": now, "updated_at": now, "history": [{"status": "pending", "at": now, "by": "customer"}],
        }
        try:
            self._checkpoint("insert:write")
            self.col.insert_one(order)
        except DuplicateKeyError:
            self._checkpoint("insert:read")
            return self.col.find_one({"_id": order["_id"]}), []  # a retried or racing call got here first
        return order, []

    def _reserve(self, order: dict) -> Doc | None:
        """Book the slot and take every line for the order's key, then decide (one compare-and-set).
        Returns the order as decided by this call, or None if another call decided it first."""
        key, at, short, refused, slot = order["key"], order["created_at"], [], set(), order.get("slot")
        got = self.slots.book(slot, order["slot_capacity"], key, at) if slot else mv.TAKEN
        slot_full = got == mv.SHORT
        if got not in (mv.TAKEN, mv.SHORT):
            refused.add(got)
        for line in [] if slot_full else order["lines"]:  # a full slot fails the order: no stock to move
            got = self.products.take(line["sku"], line["quantity"], key, at)
            if got in (mv.SHORT, mv.MISSING):
                short.append({"sku": line["sku"], "available": max(0, self.products.stock(line["sku"]))})
            elif got != mv.TAKEN:  # CLOSED: another call already failed the order; FENCED: retried far too late
                refused.add(got)
        now = time.time()
        pending = {"_id": order["_id"], "status": "pending"}
        self._checkpoint("decide")
        if short or slot_full or refused:
            reason = "stock" if short else "slot_full" if slot_full else "stale" if mv.FENCED in refused else "stock"
            change: Doc = {"status": "failed", "short": short, "reason": reason, "updated_at": now}
            res = self.col.update_one(pending, {"$set": change})
            decided = {**order, **change}
        else:
            status = "awaiting_payment" if order["payment"]["method"] == "online" else "confirmed"
            moved = {"status": status, "at": now, "by": "customer"}
            res = self.col.update_one(pending, {"$set": {"status": status, "updated_at": now},
                                                "$push": {"history": moved}})
            decided = {**order, "status": status, "updated_at": now, "history": [*order["history"], moved]}
        return decided if res.modified_count else None

    def _settle(self, order: dict) -> Placement:
        """Make the lines and the slot match the order's outcome (idempotent; skipped once done)."""
        key, at, lines, slot = order["key"], order["created_at"], order["lines"], order.get("slot")
        failed = order["status"] == "failed"
        if not order.get("settled"):
            if failed:
                if slot:
                    self.slots.give_back(slot, key, at)
                for line in lines:
                    self.products.give_back(line["sku"], line["quantity"], key, at)
            else:
                skus, now = [line["sku"] for line in lines], time.time()
                self.products.keep(skus, key)
                self.products.compact(skus, now)
                if slot:
                    self.slots.keep(slot["id"], key)
                    self.slots.compact(slot["id"], now)
            self._checkpoint("settled")
            self.col.update_one({"_id": order["_id"]}, {"$set": {"settled": True}})
        if failed:
            return Placement(False, order, order.get("short", []), order.get("reason", "stock"))
        return Placement(True, order)

    def cancel(self, order_id: str, phone: str | None = None, by: str = "customer") -> bool:
        """Cancel before dispatch and put the stock back; False if it is too late (or not theirs)."""
        query = {"_id": order_id, "status": {"$in": list(CANCELLABLE)}}
        if phone is not None:
            query["phone"] = phone
        now = time.time()
        order = self.col.find_one_and_update(
            query, {"$set": {"status": "cancelled", "restocked": False, "updated_at": now, "cancelled_at": now},
                    "$push": {"history": {"status": "cancelled", "at": now, "by": by}}},
            return_document=ReturnDocument.AFTER)
        if order is None:  # already cancelled by a job that died before restocking?
            order = self.col.find_one({"_id": order_id, "status": "cancelled", "restocked": False,
                                       **({"phone": phone} if phone is not None else {})})
            if order is None:
                return False
        self._restock(order)
        return True

    def expire(self, order_id: str, by: str = "payment expiry") -> tuple[dict | None, bool]:
        """An order not paid in time: stock and slot go back. Returns the order (None if it is no
        longer waiting) and whether this call expired it (only that caller tells the customer)."""
        now = time.time()
        order = self.col.find_one_and_update(
            {"_id": order_id, "status": "awaiting_payment"},
            {"$set": {"status": "expired", "payment.status": "expired", "restocked": False, "updated_at": now,
                      "cancelled_at": now}, "$push": {"history": {"status": "expired", "at": now, "by": by}}},
            return_document=ReturnDocument.AFTER)
        moved = order is not None
        if order is None:  # expired by a sweep that died before restocking?
            order = self.col.find_one({"_id": order_id, "status": "expired", "restocked": False})
            if order is None:
                return None, False
        self._restock(order)
        return order, moved

    def _restock(self, order: dict) -> None:
        """Put a cancelled or expired order's lines and slot back, each once (a keyed move), however
        many callers race."""
        key, at = "cancel:" + order["_id"], order.get("cancelled_at") or order["updated_at"]
        for line in order["lines"]:
            self.products.put(line["sku"], line["quantity"], key, at)
        if order.get("slot"):
            self.slots.release(order["slot"]["id"], key, at)
        self.col.update_one({"_id": order["_id"]}, {"$set": {"restocked": True}})
        self.products.compact([line["sku"] for line in order["lines"]], time.time())

    def move(self, order_id: str, status: str, by: str) -> dict | None:
        """An operator moves an order forward along FLOW (any later step, never back); None if that
        is not a forward move from where the order is now. Cancelling is `cancel` (it restocks)."""
        if status not in FLOW[1:]:
            raise ValueError(f"not a forward status: {status!r}")
        now = time.time()
        return self.col.find_one_and_update(
            {"_id": order_id, "status": {"$in": list(FLOW[:FLOW.index(status)])}},
            {"$set": {"status": status, "updated_at": now},
             "$push": {"history": {"status": status, "at": now, "by": by}}},
            return_document=ReturnDocument.AFTER)

    def search(self, *, status: str | None = None, phone: str | None = None, since: float | None = None,
               until: float | None = None, limit: int = 50, skip: int = 0, number: int | None = None,
               phone_suffix: str | None = None, slot: str | None = None) -> list[dict]:
        """Orders for operators, newest first. Without `status`: every order that was placed.
        `phone_suffix`: the phone's last digits; `slot`: a delivery slot's id."""
        query: dict = {"status": status} if status else {"status": {"$nin": ["pending", "failed"]}}
        if phone:
            query["phone"] = phone
        elif phone_suffix:
            query["phone"] = {"$regex": re.escape(phone_suffix) + "$"}
        if number is not None:
            query["number"] = number
        if slot:
            query["slot.id"] = slot
        if since is not None or until is not None:
            query["created_at"] = {**({"$gte": since} if since is not None else {}),
                                   **({"$lt": until} if until is not None else {})}
        return list(self.col.find(query, {"holds": 0}).sort("created_at", DESCENDING).skip(skip).limit(limit))

    def recent(self, phone: str, limit: int = 5) -> list[dict]:
        """The customer's own orders, newest first (never anyone else's)."""
        cursor = self.col.find({"phone": phone, "status": {"$nin": ["pending", "failed"]}}).sort(
            "created_at", DESCENDING).limit(limit)
        return [{"id": o["_id"], "number": str(o["number"]), "status": o["status"], "total_cents": o["total_cents"],
                 "created_at": o["created_at"]} for o in cursor]

    def last_placed(self, phone: str) -> dict | None:
        """The customer's newest placed order (number and lines), for "the same as last time"."""
        docs = list(self.col.find({"phone": phone, "status": {"$nin": ["pending", "failed"]}},
                                  {"number": 1, "lines": 1}).sort("created_at", DESCENDING).limit(1))
        return {"number": str(docs[0]["number"]), "lines": docs[0]["lines"]} if docs else None

    def get(self, order_id: str) -> dict | None:
        return self.col.find_one({"_id": order_id})

    def has_key(self, key: str) -> bool:
        """An order (in any status) was already started for this confirming message: it is a retry."""
        return self.col.find_one({"_id": order_id_for(key)}, {"_id": 1}) is not None

    def by_number(self, number: int) -> dict | None:
        """The order the customer knows as #number (a placed one; a failed attempt has no number to them)."""
        return self.col.find_one({"number": number, "status": {"$nin": ["pending", "failed"]}})

    def add_note(self, order_id: str, text: str, by: str) -> list[dict]:
        """An operator's note, kept with the order (newest last, at most 50)."""
        doc = self.col.find_one_and_update(
            {"_id": order_id}, {"$push": {"notes": {"$each": [{"text": text, "by": by, "at": time.time()}],
                                                    "$slice": -50}}},
            projection={"notes": 1}, return_document=ReturnDocument.AFTER)
        return (doc or {}).get("notes", [])

    def anonymise(self, phone: str) -> int:
        """Keep orders for the shop's books, without who placed them."""
        res = self.col.update_many({"phone": phone}, {"$set": {
            "phone": None, "customer_id": None, "customer_name": None, "address": None, "identity": None,
            "anonymised": True}})
        return res.modified_count

    def count(self, query: dict | None = None) -> int:
        return self.col.count_documents(query or {})

    def find(self, query: dict, limit: int = 50) -> list[dict]:
        return list(self.col.find(query).sort("created_at", DESCENDING).limit(limit))


def _payment(terms: Terms, now: float) -> dict:
    if terms.payment == "online":
        return {"method": "online", "status": "pending", "expires_at": now + terms.pay_within}
    return {"method": "on_delivery", "status": "on_delivery"}
