"""The test-only MongoDB wire server, driven through the real pymongo client.

These tests pin down the reply shapes pymongo depends on (result objects and
exception classes), because integration tests of our workers trust this
server to behave like mongod for the operations they use.
"""
from __future__ import annotations

import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import bson
import pytest
from pymongo import (
    ASCENDING,
    DESCENDING,
    DeleteOne,
    InsertOne,
    MongoClient,
    ReplaceOne,
    ReturnDocument,
    UpdateOne,
    monitoring,
)
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError
from pymongo.write_concern import WriteConcern

from tests.support.mongo_wire import MongoWireServer

REPO_ROOT = Path(__file__).resolve().parents[2]


class _CommandLog(monitoring.CommandListener):
    """Records command names so tests can prove e.g. that getMore really ran."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _client(uri: str, **kwargs) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000, **kwargs)


@pytest.fixture(scope="module")
def server():
    srv = MongoWireServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def commands() -> _CommandLog:
    return _CommandLog()


@pytest.fixture(scope="module")
def client(server, commands):
    c = _client(server.uri, event_listeners=[commands])
    yield c
    c.close()


@pytest.fixture
def db(client):
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield client[name]
    client.drop_database(name)


def test_handshake_and_admin_commands(client, db):
    assert client.admin.command("ping")["ok"] == 1.0
    info = client.server_info()
    assert info["version"] == "7.0.0" and info["versionArray"][:2] == [7, 0]
    hello = client.admin.command("hello")
    assert hello["isWritablePrimary"] is True and hello["maxWireVersion"] == 21
    db.things.insert_one({"x": 1})
    assert db.name in client.list_database_names()
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()
    assert client.admin.command("serverStatus")["version"] == "7.0.0"


def test_insert_one_and_insert_many(db):
    result = db.items.insert_one({"name": "tea"})
    assert db.items.find_one({"_id": result.inserted_id})["name"] == "tea"
    many = db.items.insert_many([{"n": i} for i in range(5)])
    assert len(many.inserted_ids) == 5
    assert db.items.count_documents({}) == 6


def test_unordered_insert_many_keeps_going_after_duplicate(db):
    db.items.insert_one({"_id": 2})
    with pytest.raises(BulkWriteError) as err:
        db.items.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}], ordered=False)
    details = err.value.details
    assert details["nInserted"] == 2
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(1, 11000)]
    assert "E11000 duplicate key error" in details["writeErrors"][0]["errmsg"]
    assert sorted(d["_id"] for d in db.items.find()) == [1, 2, 3]


def test_ordered_insert_many_stops_at_duplicate(db):
    db.items.insert_one({"_id": 2})
    with pytest.raises(BulkWriteError) as err:
        db.items.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}])
    assert err.value.details["nInserted"] == 1
    assert sorted(d["_id"] for d in db.items.find()) == [1, 2]


def test_unique_index_raises_duplicate_key_error(db):
    db.users.create_index("phone", unique=True)
    db.users.insert_one({"phone": "+100"})
    with pytest.raises(DuplicateKeyError) as err:
        db.users.insert_one({"phone": "+100"})
    assert err.value.code == 11000
    assert "index: phone_1" in str(err.value)
    assert err.value.details["keyValue"] == {"phone": "+100"}


def test_find_sort_skip_limit_projection(db):
    db.p.insert_many([{"sku": f"s{i}", "price": i % 3, "stock": i} for i in range(7)])
    docs = list(db.p.find({"stock": {"$gte": 1}}, {"_id": 0, "sku": 1})
                .sort([("price", DESCENDING), ("sku", ASCENDING)]).skip(1).limit(3))
    assert docs == [{"sku": "s5"}, {"sku": "s1"}, {"sku": "s4"}]
    assert db.p.find_one({"sku": "s3"}, {"stock": 1, "_id": 0}) == {"stock": 3}
    assert db.p.find_one({"sku": "nope"}) is None


def test_iteration_past_first_batch_uses_get_more(db, commands):
    db.p.insert_many([{"i": i} for i in range(7)])
    commands.names.clear()
    assert [d["i"] for d in db.p.find().sort("i", 1).batch_size(2)] == list(range(7))
    assert commands.names.count("getMore") == 3  # 2 + 2 + 2 + 1


def test_update_operators_and_upsert(db):
    db.o.insert_one({"_id": 1, "n": 1, "tags": ["a"], "items": [1, 2, 3]})
    r = db.o.update_one({"_id": 1}, {"$inc": {"n": 2}, "$set": {"state": "open"},
                                     "$push": {"tags": "b"}, "$pull": {"items": 2},
                                     "$setOnInsert": {"created": True}})
    assert (r.matched_count, r.modified_count, r.upserted_id) == (1, 1, None)
    r = db.o.update_one({"_id": 1}, {"$addToSet": {"tags": "a"}})
    assert (r.matched_count, r.modified_count) == (1, 0)
    assert db.o.find_one({"_id": 1}) == {"_id": 1, "n": 3, "tags": ["a", "b"],
                                         "items": [1, 3], "state": "open"}
    r = db.o.update_one({"_id": 2}, {"$set": {"n": 5}, "$setOnInsert": {"created": True}},
                        upsert=True)
    assert (r.matched_count, r.modified_count, r.upserted_id) == (0, 0, 2)
    assert db.o.find_one({"_id": 2}) == {"_id": 2, "n": 5, "created": True}
    r = db.o.replace_one({"_id": 2}, {"n": 9})
    assert r.modified_count == 1 and db.o.find_one({"_id": 2}) == {"_id": 2, "n": 9}


def test_conditional_decrement_counts(db):
    db.p.insert_one({"sku": "tea", "stock": 4})
    hit = db.p.update_one({"sku": "tea", "stock": {"$gte": 3}}, {"$inc": {"stock": -3}})
    miss = db.p.update_one({"sku": "tea", "stock": {"$gte": 3}}, {"$inc": {"stock": -3}})
    assert (hit.matched_count, hit.modified_count) == (1, 1)
    assert (miss.matched_count, miss.modified_count) == (0, 0)
    assert db.p.find_one({"sku": "tea"})["stock"] == 1


def test_update_many(db):
    db.o.insert_many([{"s": "new"}, {"s": "new"}, {"s": "done"}])
    r = db.o.update_many({"s": "new"}, {"$set": {"s": "paid"}})
    assert (r.matched_count, r.modified_count) == (2, 2)
    assert db.o.count_documents({"s": "paid"}) == 2


def test_bulk_write_goes_through_plain_write_commands(db):
    # mongomock's own bulk_write(UpdateOne) fails; over the wire pymongo
    # splits it into insert/update/delete commands, which work.
    result = db.b.bulk_write([InsertOne({"_id": 1, "n": 0}),
                              UpdateOne({"_id": 1}, {"$inc": {"n": 1}}),
                              ReplaceOne({"_id": 1}, {"n": 7}), InsertOne({"_id": 2}),
                              DeleteOne({"_id": 2})])
    assert (result.inserted_count, result.matched_count, result.modified_count,
            result.deleted_count) == (2, 2, 2, 1)
    assert list(db.b.find()) == [{"_id": 1, "n": 7}]


def test_bad_update_is_a_write_error_not_a_dead_server(db):
    db.o.insert_one({"_id": 1, "v": "text"})
    with pytest.raises(WriteError):
        db.o.update_one({"_id": 1}, {"$inc": {"v": 1}})
    assert db.o.find_one({"_id": 1}) == {"_id": 1, "v": "text"}


def test_find_one_and_update_and_delete(db):
    db.c.insert_one({"_id": "orders", "seq": 1})
    after = db.c.find_one_and_update({"_id": "orders"}, {"$inc": {"seq": 1}},
                                     return_document=ReturnDocument.AFTER)
    assert after == {"_id": "orders", "seq": 2}
    before = db.c.find_one_and_update({"_id": "orders"}, {"$inc": {"seq": 1}},
                                      projection={"_id": 0})
    assert before == {"seq": 2}
    created = db.c.find_one_and_update({"_id": "invoices"}, {"$inc": {"seq": 1}},
                                       upsert=True, return_document=ReturnDocument.AFTER)
    assert created == {"_id": "invoices", "seq": 1}
    assert db.c.find_one_and_update({"_id": "nope"}, {"$set": {"x": 1}}) is None
    assert db.c.find_one_and_delete({"_id": "orders"}) == {"_id": "orders", "seq": 3}
    assert db.c.count_documents({}) == 1


def test_delete_one_and_delete_many(db):
    db.d.insert_many([{"k": 1}, {"k": 1}, {"k": 1}, {"k": 2}])
    assert db.d.delete_one({"k": 1}).deleted_count == 1
    assert db.d.delete_many({"k": 1}).deleted_count == 2
    assert db.d.delete_many({"k": 99}).deleted_count == 0
    assert db.d.count_documents({}) == 1


def test_counts_and_distinct(db):
    db.p.insert_many([{"cat": c, "v": i} for i, c in enumerate("aabbbc")])
    assert db.p.count_documents({}) == 6
    assert db.p.count_documents({"cat": "b"}) == 3
    assert db.p.count_documents({"cat": "b"}, skip=1, limit=1) == 1
    assert db.p.count_documents({"cat": "zzz"}) == 0
    assert db.p.estimated_document_count() == 6
    assert db.missing.estimated_document_count() == 0
    assert sorted(db.p.distinct("cat")) == ["a", "b", "c"]
    assert sorted(db.p.distinct("cat", {"v": {"$gte": 3}})) == ["b", "c"]


def test_aggregate_match_group_sort_lookup(db):
    db.products.insert_many([{"_id": "tea", "name": "Tea"}, {"_id": "jam", "name": "Jam"}])
    db.lines.insert_many([{"sku": "tea", "qty": 2, "paid": True},
                          {"sku": "tea", "qty": 3, "paid": True},
                          {"sku": "jam", "qty": 1, "paid": True},
                          {"sku": "jam", "qty": 9, "paid": False}])
    rows = list(db.lines.aggregate([
        {"$match": {"paid": True}},
        {"$group": {"_id": "$sku", "qty": {"$sum": "$qty"}}},
        {"$sort": {"qty": -1}},
        {"$lookup": {"from": "products", "localField": "_id", "foreignField": "_id",
                     "as": "product"}},
        {"$unwind": "$product"},
        {"$project": {"_id": 0, "name": "$product.name", "qty": 1}},
    ]))
    assert rows == [{"qty": 5, "name": "Tea"}, {"qty": 1, "name": "Jam"}]
    assert list(db.lines.aggregate([{"$count": "n"}])) == [{"n": 4}]


def test_indexes_are_idempotent_and_listed(db):
    assert db.p.create_index([("sku", ASCENDING)], unique=True) == "sku_1"
    assert db.p.create_index([("sku", ASCENDING)], unique=True) == "sku_1"
    db.p.create_index([("cat", ASCENDING), ("price", DESCENDING)], name="cat_price")
    info = db.p.index_information()
    assert set(info) == {"_id_", "sku_1", "cat_price"}
    assert info["sku_1"]["unique"] is True
    assert info["cat_price"]["key"] == [("cat", 1), ("price", -1)]
    with pytest.raises(OperationFailure) as err:
        db.p.create_index([("sku", ASCENDING)], unique=False)  # same name, other options
    assert err.value.code == 85
    db.p.drop_index("cat_price")
    assert set(db.p.index_information()) == {"_id_", "sku_1"}


def test_list_collections_create_and_drop(db):
    db.a.insert_one({})
    db.create_collection("b")
    assert sorted(db.list_collection_names()) == ["a", "b"]
    assert db.list_collection_names(filter={"name": "b"}) == ["b"]
    with pytest.raises(OperationFailure) as err:  # check_exists=False: let the server refuse
        db.create_collection("b", check_exists=False)
    assert err.value.code == 48
    db.a.drop()
    db.never_existed.drop()
    assert db.list_collection_names() == ["b"]


def test_unacknowledged_write_gets_no_reply_but_is_applied(db):
    db.w.with_options(write_concern=WriteConcern(w=0)).insert_one({"_id": 1})
    deadline = time.monotonic() + 2
    while db.w.find_one({"_id": 1}) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert db.w.find_one({"_id": 1}) == {"_id": 1}


def test_unsupported_features_fail_loudly(client, db):
    db.o.insert_one({"_id": 1, "lines": [{"sku": "a", "qty": 1}]})
    with pytest.raises(OperationFailure) as err:
        db.o.update_one({"_id": 1}, {"$set": {"lines.$[l].qty": 2}},
                        array_filters=[{"l.sku": "a"}])
    assert err.value.code == 238 and "arrayFilters" in str(err.value)
    with pytest.raises(OperationFailure) as err:
        db.o.find_one({}, collation={"locale": "en"})
    assert err.value.code == 238
    with pytest.raises(OperationFailure) as err:
        db.command("frobnicate")
    assert err.value.code == 59
    with client.start_session() as session, pytest.raises(OperationFailure):
        with session.start_transaction():
            db.o.insert_one({"_id": 2}, session=session)
    assert db.o.count_documents({}) == 1


def test_handler_bug_returns_error_and_server_survives():
    with MongoWireServer() as srv, _client(srv.uri) as c:
        original = srv.executor._handlers["distinct"]
        srv.executor._handlers["distinct"] = lambda *args: 1 / 0
        with pytest.raises(OperationFailure) as err:
            c.t.x.distinct("k")
        assert err.value.code == 1 and "ZeroDivisionError" in str(err.value)
        srv.executor._handlers["distinct"] = original
        c.t.x.insert_one({"k": 1})
        assert c.t.x.distinct("k") == [1]


def test_legacy_op_query_handshake_gets_op_reply(server):
    query = bson.encode({"isMaster": 1, "helloOk": True})
    body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    message = struct.pack("<iiii", 16 + len(body), 7, 0, 2004) + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(message)
        header = sock.recv(16, socket.MSG_WAITALL)
        length, _, response_to, op_code = struct.unpack("<iiii", header)
        rest = sock.recv(length - 16, socket.MSG_WAITALL)
    assert (response_to, op_code) == (7, 1)
    reply = bson.decode(rest[20:])
    assert reply["ok"] == 1.0 and reply["ismaster"] is True and reply["helloOk"] is True


def test_concurrent_conditional_decrements_never_oversell(server, db):
    db.p.insert_one({"sku": "tea", "stock": 50})
    wins: list[int] = []

    def buyer(n: int) -> None:
        with _client(server.uri) as c:
            coll = c[db.name].p
            won = sum(coll.update_one({"sku": "tea", "stock": {"$gte": 1}},
                                      {"$inc": {"stock": -1}}).modified_count for _ in range(n))
        wins.append(won)

    threads = [threading.Thread(target=buyer, args=(100,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(wins) == 50 and len(wins) == 2
    assert db.p.find_one({"sku": "tea"})["stock"] == 0


def test_server_in_a_separate_process():
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.mongo_wire", "--port", "0"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "server process printed no URI"
        uri = proc.stdout.readline().strip()
        assert uri.startswith("mongodb://127.0.0.1:")
        with _client(uri) as c:
            c.shop.p.insert_one({"sku": "tea", "stock": 3})
            assert c.shop.p.find_one({"sku": "tea"}, {"_id": 0}) == {"sku": "tea", "stock": 3}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_insert_one_round_trip_throughput(db):
    """Reports (never asserts) the speed; run with -s to see the number."""
    n = 500
    start = time.perf_counter()
    for i in range(n):
        db.bench.insert_one({"i": i, "payload": "x" * 100})
    elapsed = time.perf_counter() - start
    print(f"\nmongo_wire insert_one round trips: {n / elapsed:.0f}/s "
          f"({elapsed / n * 1e6:.0f} us each)")
    assert db.bench.estimated_document_count() == n
