"""MongoDB, in one place: the repositories, their indexes, and the client for either backend.

`connect(settings)` returns a Store on a real MongoDB (MONGO_URI) or on mongomock (the embedded
default). Only this package imports pymongo.
"""
from __future__ import annotations

import mongomock
from pymongo import MongoClient

from bot.config import Settings
from bot.store.audit import Audit
from bot.store.conversations import Conversations
from bot.store.customers import Customers
from bot.store.feedback import Feedback
from bot.store.history import Messages
from bot.store.orders import CANCELLABLE, FLOW, Orders, Placement, Terms
from bot.store.outreach import Outreach
from bot.store.payments import Payments
from bot.store.products import Products
from bot.store.repository import Db, Doc
from bot.store.revenue import Revenue
from bot.store.slots import Slots


class Store:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.customers = Customers(db)
        self.products = Products(db)
        self.slots = Slots(db)
        self.orders = Orders(db, self.products, self.slots)
        self.payments = Payments(db)
        self.messages = Messages(db)
        self.conversations = Conversations(db)
        self.audit = Audit(db)
        self.revenue = Revenue(db)
        self.outreach = Outreach(db)
        self.feedback = Feedback(db)

    def ensure_indexes(self) -> None:
        """Create every index the queries need; safe to call at every start."""
        for repo in (self.customers, self.products, self.slots, self.orders, self.messages, self.conversations,
                     self.audit, self.outreach, self.feedback):
            repo.ensure_indexes()

    def ping(self) -> bool:
        self.db.command("ping")
        return True


def connect(settings: Settings) -> Store:
    client: MongoClient[Doc]
    if settings.MONGO_URI:
        client = MongoClient(settings.MONGO_URI, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000,
                             socketTimeoutMS=10000, tz_aware=True, appname="orderline")
    else:
        client = mongomock.MongoClient()
    return Store(client[settings.MONGO_DB])


__all__ = ["Store", "connect", "Placement", "Terms", "CANCELLABLE", "FLOW"]
