"""MongoDB command handlers executed against one shared mongomock client.

This is the half of the test-only wire server (``mongo_wire.py``) that knows
what commands *mean*. ``mongo_wire.py`` turns bytes into a command document and
back; :class:`CommandExecutor` turns a command document into a reply document
shaped like a real MongoDB 7.0 reply, because pymongo builds its result objects
(``InsertManyResult``, ``UpdateResult``...) and picks its exception classes
(``DuplicateKeyError``, ``BulkWriteError``, ``OperationFailure``) purely from
the reply fields: ``n``, ``nModified``, ``upserted``, ``writeErrors``, ``code``.

Design choices, and why:

* One lock around every command. mongomock is not thread safe, and holding
  the lock for a whole command also makes each command atomic, which is what
  tests of "conditional decrement under concurrency" rely on.
* Cursor results are BSON-encoded (``RawBSONDocument``) while the lock is
  held: that snapshots the documents (mongomock may hand out references to
  its stored dicts) and the reply encoder copies raw bytes instead of
  re-encoding on every ``getMore``.
* Whatever mongomock cannot do is answered with an explicit error (code 238,
  ``NotImplemented``) instead of being silently ignored, so a test never passes
  against semantics a real server would not have.
"""
from __future__ import annotations

import datetime
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import bson
import mongomock
from bson.errors import InvalidDocument
from bson.int64 import Int64
from bson.json_util import dumps as _json_dumps
from bson.raw_bson import RawBSONDocument
from mongomock import filtering
from pymongo.errors import DuplicateKeyError, InvalidName, OperationFailure

log = logging.getLogger("tests.support.mongo_wire")

SERVER_VERSION = "7.0.0"
MAX_WIRE_VERSION = 21  # MongoDB 7.0
MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48_000_000
MAX_WRITE_BATCH = 100_000
DEFAULT_BATCH = 101  # what mongod uses for the first batch of find/aggregate
BATCH_BYTES = MAX_BSON_SIZE - 64 * 1024  # leave room for the reply envelope
CURSOR_IDLE_SECONDS = 600

CODE_NAMES = {
    1: "InternalError", 2: "BadValue", 9: "FailedToParse", 14: "TypeMismatch",
    20: "IllegalOperation", 26: "NamespaceNotFound", 27: "IndexNotFound",
    43: "CursorNotFound", 48: "NamespaceExists", 59: "CommandNotFound",
    72: "InvalidOptions", 73: "InvalidNamespace", 85: "IndexOptionsConflict",
    238: "NotImplemented", 11000: "DuplicateKey",
}

# A standalone mongod refuses these; mongomock has no transactions either.
_TRANSACTION_FIELDS = ("txnNumber", "startTransaction", "autocommit")
# Envelope fields any command may carry (sessions, gossip, routing, API
# version, durability). A single in-memory server can safely ignore them.
_GENERIC_FIELDS = {"$db", "lsid", "$clusterTime", "$readPreference", "writeConcern",
                   "readConcern", "comment", "maxTimeMS", "apiVersion", "apiStrict",
                   "apiDeprecationErrors"}


class CommandError(Exception):
    """A command failed the way a real server would fail it (ok: 0)."""

    def __init__(self, code: int, errmsg: str, **extra: Any):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg
        self.extra = extra

    def reply(self) -> dict:
        return error_reply(self.code, self.errmsg, **self.extra)


def error_reply(code: int, errmsg: str, **extra: Any) -> dict:
    return {"ok": 0.0, "errmsg": errmsg, "code": code,
            "codeName": CODE_NAMES.get(code, "UnknownError"), **extra}


def unsupported(what: str) -> CommandError:
    return CommandError(238, f"mongo_wire: {what} is not supported (mongomock "
                             f"{mongomock.__version__} lacks it)")


class _Cursor:
    """Remaining, already-encoded documents of an open server-side cursor."""

    def __init__(self, ns: str, docs: deque):
        self.ns = ns
        self.docs = docs
        self.last_used = time.monotonic()


# What one write statement may raise that mongod would report as a per-statement
# writeError rather than failing the whole command. mongomock raises plain
# TypeError/ValueError for bad data (e.g. $inc on a string) where mongod says
# TypeMismatch; those are reported too (and logged, in case it is our bug).
_STATEMENT_ERRORS = (OperationFailure, NotImplementedError, CommandError, InvalidDocument,
                     TypeError, ValueError)


def _take_batch(docs: deque, max_docs: int | None) -> list:
    """Pop up to max_docs documents, staying under the BSON size limit like mongod."""
    batch: list = []
    size = 0
    while docs and (max_docs is None or len(batch) < max_docs):
        doc_size = len(docs[0].raw)
        if batch and size + doc_size > BATCH_BYTES:
            break
        batch.append(docs.popleft())
        size += doc_size
    return batch


def _sort_list(sort: Any) -> list | None:
    return list(sort.items()) if sort else None


def _update_kind(update: Any) -> str:
    if isinstance(update, list):
        return "pipeline"
    if isinstance(update, dict) and update and next(iter(update)).startswith("$"):
        return "operators"
    return "replacement"


def _dotted(doc: dict, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class CommandExecutor:
    """Runs decoded command documents against one mongomock client.

    ``execute`` never raises: every failure becomes an ``ok: 0`` reply, so a
    bad command (or a bug here) costs one test an error, not the whole server.
    """

    def __init__(self, backend: mongomock.MongoClient | None = None):
        self.backend = backend or mongomock.MongoClient()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self._cursors: dict[int, _Cursor] = {}
        self._handlers: dict[str, Callable[[str, dict, int], dict]] = {
            "hello": self._hello, "isMaster": self._is_master, "ismaster": self._is_master,
            "ping": self._ok, "endSessions": self._ok, "buildInfo": self._build_info,
            "buildinfo": self._build_info, "serverStatus": self._server_status,
            "listDatabases": self._list_databases, "dropDatabase": self._drop_database,
            "insert": self._insert, "update": self._update, "delete": self._delete,
            "find": self._find, "getMore": self._get_more, "killCursors": self._kill_cursors,
            "findAndModify": self._find_and_modify, "findandmodify": self._find_and_modify,
            "aggregate": self._aggregate, "count": self._count, "distinct": self._distinct,
            "createIndexes": self._create_indexes, "listIndexes": self._list_indexes,
            "dropIndexes": self._drop_indexes, "deleteIndexes": self._drop_indexes,
            "drop": self._drop, "create": self._create, "listCollections": self._list_collections,
        }

    # ------------------------------------------------------------------ entry
    def execute(self, db: str, cmd: dict, connection_id: int = 0) -> dict:
        """Run one command; always returns a reply document (with ``ok``)."""
        if not cmd:
            return error_reply(9, "empty command document")
        name = next(iter(cmd))
        handler = self._handlers.get(name)
        if handler is None:
            return error_reply(59, f"no such command: '{name}'")
        if any(field in cmd for field in _TRANSACTION_FIELDS):
            # What a real standalone mongod answers; mongomock has no transactions.
            return error_reply(20, "Transaction numbers are only allowed on a replica set "
                                   "member or mongos (mongo_wire has no transactions)")
        try:
            with self.lock:
                reply = handler(db, cmd, connection_id)
        except CommandError as exc:
            return exc.reply()
        except DuplicateKeyError as exc:
            return error_reply(11000, f"E11000 duplicate key error: {exc}")
        except OperationFailure as exc:
            return error_reply(exc.code or 2, str(exc))
        except NotImplementedError as exc:
            return error_reply(238, f"mongo_wire: mongomock does not implement this: {exc}")
        except InvalidDocument as exc:
            return error_reply(2, str(exc))
        except Exception as exc:  # a bug here or in mongomock: report it, keep serving
            log.exception("mongo_wire: command %r on db %r failed", name, db)
            return error_reply(1, f"mongo_wire internal error in '{name}': "
                                  f"{type(exc).__name__}: {exc}")
        reply.setdefault("ok", 1.0)
        return reply

    # --------------------------------------------------------------- helpers
    def _coll(self, db: str, name: Any) -> mongomock.Collection:
        if not isinstance(name, str) or not name:
            raise CommandError(73, f"collection name has invalid type or value: {name!r}")
        try:
            return self.backend[db][name]
        except InvalidName as exc:
            raise CommandError(73, f"Invalid namespace specified '{db}.{name}': {exc}") from exc

    def _exists(self, db: str, name: str) -> bool:
        return name in self.backend[db].list_collection_names()

    def _cursor_reply(self, ns: str, docs: Any, batch_size: Any,
                      single_batch: bool = False) -> dict:
        encoded = deque(RawBSONDocument(bson.encode(doc)) for doc in docs)
        batch = _take_batch(encoded, DEFAULT_BATCH if batch_size is None else int(batch_size))
        cursor_id = 0
        if encoded and not single_batch:
            cursor_id = self._register_cursor(ns, encoded)
        return {"cursor": {"firstBatch": batch, "id": Int64(cursor_id), "ns": ns}}

    def _register_cursor(self, ns: str, docs: deque) -> int:
        now = time.monotonic()
        for stale in [cid for cid, c in self._cursors.items()
                      if now - c.last_used > CURSOR_IDLE_SECONDS]:
            del self._cursors[stale]  # a client that vanished without killCursors
        cursor_id = random.getrandbits(62) + 1
        while cursor_id in self._cursors:
            cursor_id = random.getrandbits(62) + 1
        self._cursors[cursor_id] = _Cursor(ns, docs)
        return cursor_id

    @staticmethod
    def _duplicate_key_error(coll: mongomock.Collection, doc: dict | None) -> dict:
        """Build mongod's E11000 error; name the index when we can work it out.

        mongomock only says "Duplicate Key Error". For an insert we know the
        rejected document, so we look for the unique index it collides on;
        for updates the attempted document is gone (mongomock rolled back).
        """
        ns = coll.full_name
        if doc is not None:
            for name, info in coll.index_information().items():
                if name != "_id_" and not info.get("unique"):
                    continue
                key_value = {field: _dotted(doc, field) for field, _ in info["key"]}
                if info.get("sparse") and all(v is None for v in key_value.values()):
                    continue
                query: dict = dict(key_value)
                if info.get("partialFilterExpression"):
                    query = {"$and": [info["partialFilterExpression"], key_value]}
                if coll.find_one(query, {"_id": 1}) is None:
                    continue
                shown = ", ".join(f"{k}: {_json_dumps(v)}" for k, v in key_value.items())
                return {"code": 11000, "keyPattern": dict(info["key"]), "keyValue": key_value,
                        "errmsg": f"E11000 duplicate key error collection: {ns} index: "
                                  f"{name} dup key: {{ {shown} }}"}
        return {"code": 11000, "errmsg": f"E11000 duplicate key error collection: {ns} "
                                         "(mongomock does not say which index)"}

    def _write_error(self, index: int, exc: Exception, coll: mongomock.Collection,
                     doc: dict | None = None) -> dict:
        if isinstance(exc, DuplicateKeyError):
            error = self._duplicate_key_error(coll, doc)
        elif isinstance(exc, CommandError):
            error = {"code": exc.code, "errmsg": exc.errmsg}
        elif isinstance(exc, NotImplementedError):
            error = {"code": 238, "errmsg": f"mongo_wire: mongomock does not implement: {exc}"}
        elif isinstance(exc, OperationFailure):
            error = {"code": exc.code or 2, "errmsg": str(exc)}
        else:
            if not isinstance(exc, InvalidDocument):
                log.warning("mongo_wire: write statement %d on %s failed in mongomock",
                            index, coll.full_name, exc_info=exc)
            error = {"code": 2, "errmsg": f"{type(exc).__name__}: {exc} (raised by mongomock)"}
        return {"index": index, **error}

    # ------------------------------------------------------ handshake/admin
    def _hello(self, db: str, cmd: dict, connection_id: int) -> dict:
        # No topologyVersion on purpose: without it pymongo polls instead of
        # using the streaming (exhaust) hello protocol, which we do not speak.
        return {
            "helloOk": True, "isWritablePrimary": True,
            "maxBsonObjectSize": MAX_BSON_SIZE, "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
            "maxWriteBatchSize": MAX_WRITE_BATCH,
            "localTime": datetime.datetime.now(datetime.UTC),
            "logicalSessionTimeoutMinutes": 30, "connectionId": connection_id,
            "minWireVersion": 0, "maxWireVersion": MAX_WIRE_VERSION, "readOnly": False,
        }

    def _is_master(self, db: str, cmd: dict, connection_id: int) -> dict:
        return {"ismaster": True, **self._hello(db, cmd, connection_id)}

    def _ok(self, db: str, cmd: dict, connection_id: int) -> dict:
        return {}

    def _build_info(self, db: str, cmd: dict, connection_id: int) -> dict:
        return {"version": SERVER_VERSION, "versionArray": [7, 0, 0, 0],
                "gitVersion": "mongo_wire-mongomock", "bits": 64, "debug": False,
                "maxBsonObjectSize": MAX_BSON_SIZE, "storageEngines": ["mongomock"]}

    def _server_status(self, db: str, cmd: dict, connection_id: int) -> dict:
        uptime = time.monotonic() - self.started
        return {"host": "mongo_wire", "version": SERVER_VERSION, "process": "mongo_wire",
                "pid": Int64(os.getpid()), "uptime": uptime,
                "uptimeMillis": Int64(int(uptime * 1000)),
                "localTime": datetime.datetime.now(datetime.UTC),
                "metrics": {"cursor": {"open": {"total": len(self._cursors)}}}}

    def _list_databases(self, db: str, cmd: dict, connection_id: int) -> dict:
        docs = [{"name": name, "sizeOnDisk": 0, "empty": False}
                for name in self.backend.list_database_names()]
        if cmd.get("filter"):
            docs = [d for d in docs if filtering.filter_applies(cmd["filter"], d)]
        if cmd.get("nameOnly"):
            return {"databases": [{"name": d["name"]} for d in docs]}
        return {"databases": docs, "totalSize": 0, "totalSizeMb": 0}

    def _drop_database(self, db: str, cmd: dict, connection_id: int) -> dict:
        self.backend.drop_database(db)
        return {"dropped": db}

    # ------------------------------------------------------------- writes
    def _insert(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["insert"])
        ordered = cmd.get("ordered", True)
        inserted, errors = 0, []
        for index, doc in enumerate(cmd.get("documents") or []):
            try:
                coll.insert_one(doc)
                inserted += 1
                continue
            except _STATEMENT_ERRORS as exc:
                errors.append(self._write_error(index, exc, coll, doc))
            if ordered:
                break
        reply: dict = {"n": inserted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _update(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["update"])
        statements = cmd.get("updates") or []
        # Reject unsupported options before touching anything, so a batch is
        # never half-applied because of a mongomock gap.
        if cmd.get("let"):
            raise unsupported("update with 'let'")
        for stmt in statements:
            if stmt.get("arrayFilters"):
                raise unsupported("update with arrayFilters")
            if stmt.get("collation"):
                raise unsupported("update with collation")
        matched = modified = 0
        upserted, errors = [], []
        for index, stmt in enumerate(statements):
            try:
                result = self._update_one_statement(coll, stmt)
            except _STATEMENT_ERRORS as exc:
                errors.append(self._write_error(index, exc, coll))
                if cmd.get("ordered", True):
                    break
                continue
            matched += result["n"]
            modified += result["nModified"]
            if result.get("upserted") is not None:
                upserted.append({"index": index, "_id": result["upserted"]})
        reply: dict = {"n": matched, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    @staticmethod
    def _update_one_statement(coll: mongomock.Collection, stmt: dict) -> dict:
        query, update = stmt.get("q") or {}, stmt.get("u")
        upsert, multi = bool(stmt.get("upsert")), bool(stmt.get("multi"))
        kind = _update_kind(update)
        if kind == "replacement":
            if multi:
                raise CommandError(9, "multi update is not supported for replacement-style update")
            result = coll.replace_one(query, update or {}, upsert=upsert)
        elif multi:
            result = coll.update_many(query, update, upsert=upsert)
        else:
            result = coll.update_one(query, update, upsert=upsert)
        return result.raw_result

    def _delete(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["delete"])
        deleted, errors = 0, []
        for index, stmt in enumerate(cmd.get("deletes") or []):
            try:
                if stmt.get("collation"):
                    raise unsupported("delete with collation")
                limit = stmt.get("limit", 0)
                if limit not in (0, 1):
                    raise CommandError(9, f"The limit field in delete objects must be 0 or 1. "
                                          f"Got {limit}")
                query = stmt.get("q") or {}
                result = coll.delete_one(query) if limit == 1 else coll.delete_many(query)
                deleted += result.deleted_count
            except _STATEMENT_ERRORS as exc:
                errors.append(self._write_error(index, exc, coll))
                if cmd.get("ordered", True):
                    break
        reply: dict = {"n": deleted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _find_and_modify(self, db: str, cmd: dict, connection_id: int) -> dict:
        """findAndModify built from find_one + update/delete.

        mongomock's own find_one_and_* does not report ``lastErrorObject``
        (updatedExisting, upserted), which pymongo and callers may read.
        """
        coll = self._coll(db, next(iter(cmd.values())))
        query, fields = cmd.get("query") or {}, cmd.get("fields")
        update, remove = cmd.get("update"), bool(cmd.get("remove"))
        new, upsert = bool(cmd.get("new")), bool(cmd.get("upsert"))
        if cmd.get("arrayFilters"):
            raise unsupported("findAndModify with arrayFilters")
        if cmd.get("collation") or cmd.get("let"):
            raise unsupported("findAndModify with collation/let")
        if remove and update is not None:
            raise CommandError(9, "Cannot specify both an update and remove=true")
        if not remove and update is None:
            raise CommandError(9, "Either an update or remove=true must be specified")
        if remove and (new or upsert):
            raise CommandError(9, "Cannot specify both upsert=true and remove=true, "
                                  "or new=true and remove=true")

        current = coll.find_one(query, sort=_sort_list(cmd.get("sort")))
        if remove:
            if current is None:
                return {"lastErrorObject": {"n": 0}, "value": None}
            before = coll.find_one({"_id": current["_id"]}, fields) if fields else current
            coll.delete_one({"_id": current["_id"]})
            return {"lastErrorObject": {"n": 1}, "value": before}

        kind = _update_kind(update)
        apply = coll.replace_one if kind == "replacement" else coll.update_one
        if current is None:
            if not upsert:
                return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
            try:
                new_id = apply(query, update, upsert=True).upserted_id
            except DuplicateKeyError as exc:
                raise CommandError(11000, self._duplicate_key_error(coll, None)["errmsg"]) from exc
            value = coll.find_one({"_id": new_id}, fields) if new else None
            return {"lastErrorObject": {"n": 1, "updatedExisting": False, "upserted": new_id},
                    "value": value}

        doc_id = current["_id"]
        before = coll.find_one({"_id": doc_id}, fields) if fields else current
        # Keep the caller's query (for the positional `$` operator) but pin
        # the exact document that find_one chose.
        target = {"$and": [query, {"_id": doc_id}]} if "_id" in query else {**query, "_id": doc_id}
        try:
            apply(target, update)
        except DuplicateKeyError as exc:
            raise CommandError(11000, self._duplicate_key_error(coll, None)["errmsg"]) from exc
        value = coll.find_one({"_id": doc_id}, fields) if new else before
        return {"lastErrorObject": {"n": 1, "updatedExisting": True}, "value": value}

    # -------------------------------------------------------------- reads
    def _find(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["find"])
        if cmd.get("tailable") or cmd.get("awaitData"):
            raise unsupported("tailable cursors")
        if cmd.get("collation"):  # mongomock would silently ignore it
            raise unsupported("find with collation")
        skip, limit = int(cmd.get("skip") or 0), int(cmd.get("limit") or 0)
        if skip < 0 or limit < 0:
            raise CommandError(2, "skip and limit must be non-negative")
        # 'hint' only changes speed on a real server, so it is ignored here.
        docs = coll.find(cmd.get("filter") or {}, cmd.get("projection"), skip=skip,
                         limit=limit, sort=_sort_list(cmd.get("sort")))
        return self._cursor_reply(coll.full_name, docs, cmd.get("batchSize"),
                                  bool(cmd.get("singleBatch")))

    def _get_more(self, db: str, cmd: dict, connection_id: int) -> dict:
        cursor_id = int(cmd["getMore"])
        cursor = self._cursors.get(cursor_id)
        if cursor is None:
            raise CommandError(43, f"cursor id {cursor_id} not found")
        cursor.last_used = time.monotonic()
        batch = _take_batch(cursor.docs, cmd.get("batchSize") or None)
        if not cursor.docs:
            del self._cursors[cursor_id]
            cursor_id = 0
        return {"cursor": {"nextBatch": batch, "id": Int64(cursor_id), "ns": cursor.ns}}

    def _kill_cursors(self, db: str, cmd: dict, connection_id: int) -> dict:
        killed, not_found = [], []
        for cursor_id in cmd.get("cursors") or []:
            found = self._cursors.pop(int(cursor_id), None) is not None
            (killed if found else not_found).append(Int64(cursor_id))
        return {"cursorsKilled": killed, "cursorsNotFound": not_found,
                "cursorsAlive": [], "cursorsUnknown": []}

    def _aggregate(self, db: str, cmd: dict, connection_id: int) -> dict:
        target = cmd["aggregate"]
        if not isinstance(target, str):
            raise unsupported("database-level aggregate ({aggregate: 1})")
        coll = self._coll(db, target)
        pipeline = cmd.get("pipeline")
        if not isinstance(pipeline, list):
            raise CommandError(14, "'pipeline' option must be specified as an array")
        if cmd.get("explain"):
            raise unsupported("aggregate explain")
        if cmd.get("collation") or cmd.get("let"):
            raise unsupported("aggregate with collation/let")
        if "cursor" not in cmd:
            raise CommandError(9, "The 'cursor' option is required, except for aggregate "
                                  "with the explain argument")
        docs = list(coll.aggregate(pipeline))
        if pipeline and next(iter(pipeline[-1]), None) in ("$out", "$merge"):
            docs = []  # mongod returns an empty cursor; mongomock echoes the documents
        return self._cursor_reply(coll.full_name, docs, (cmd["cursor"] or {}).get("batchSize"))

    def _count(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["count"])
        if cmd.get("collation"):
            raise unsupported("count with collation")
        skip, limit = int(cmd.get("skip") or 0), abs(int(cmd.get("limit") or 0))
        docs = coll.find(cmd.get("query") or {}, {"_id": 1}, skip=skip, limit=limit)
        return {"n": sum(1 for _ in docs)}

    def _distinct(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["distinct"])
        if cmd.get("collation"):
            raise unsupported("distinct with collation")
        if not isinstance(cmd.get("key"), str):
            raise CommandError(14, "BSON field 'distinct.key' is missing or not a string")
        return {"values": coll.distinct(cmd["key"], cmd.get("query") or {})}

    # ---------------------------------------------------- indexes / DDL
    _INDEX_OPTIONS = {"unique", "sparse", "expireAfterSeconds", "partialFilterExpression"}
    _IGNORED_INDEX_OPTIONS = {"key", "name", "background", "v", "ns"}

    def _create_indexes(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["createIndexes"])
        specs = cmd.get("indexes")
        if not isinstance(specs, list) or not specs:
            raise CommandError(2, "Must specify at least one index to create")
        existed = self._exists(db, coll.name)
        before = len(coll.index_information()) if existed else 0
        for spec in specs:
            key, name = spec.get("key"), spec.get("name")
            if not key or not name:
                raise CommandError(9, "The 'key' and 'name' fields are required for an index")
            extra = set(spec) - self._INDEX_OPTIONS - self._IGNORED_INDEX_OPTIONS
            if extra:
                raise unsupported(f"index option(s) {sorted(extra)}")
            key_list = list(key.items())
            current = coll.index_information()
            if name == "_id_" and key_list == [("_id", 1)]:
                continue
            for other_name, info in current.items():
                if info["key"] == key_list and other_name != name:
                    raise CommandError(85, f"Index already exists with a different name: "
                                           f"{other_name}")
            options = {k: spec[k] for k in self._INDEX_OPTIONS if k in spec}
            try:
                coll.create_index(key_list, name=name, **options)
            except DuplicateKeyError as exc:
                raise CommandError(11000, f"Index build failed: E11000 duplicate key error "
                                          f"collection: {coll.full_name} index: {name}") from exc
            except OperationFailure as exc:
                if exc.code is not None:
                    raise
                raise CommandError(85, str(exc)) from exc
        after = len(coll.index_information())
        reply: dict = {"numIndexesBefore": before, "numIndexesAfter": after,
                       "createdCollectionAutomatically": not existed}
        if before == after:
            reply["note"] = "all indexes already exist"
        return reply

    def _list_indexes(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["listIndexes"])
        if not self._exists(db, coll.name):
            raise CommandError(26, f"ns does not exist: {coll.full_name}")
        return self._cursor_reply(coll.full_name, list(coll.list_indexes()),
                                  (cmd.get("cursor") or {}).get("batchSize"))

    def _drop_indexes(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, next(iter(cmd.values())))
        if not self._exists(db, coll.name):
            raise CommandError(26, f"ns not found {coll.full_name}")
        current = coll.index_information()
        target = cmd.get("index")
        if target == "*":
            coll.drop_indexes()
            return {"nIndexesWas": len(current)}
        names = target if isinstance(target, list) else [target]
        resolved = []
        for item in names:
            if isinstance(item, dict):  # a key pattern instead of a name
                matches = [n for n, info in current.items() if info["key"] == list(item.items())]
                if not matches:
                    raise CommandError(27, f"can't find index with key: {dict(item)}")
                item = matches[0]
            if item == "_id_":
                raise CommandError(72, "cannot drop _id index")
            if item not in current:
                raise CommandError(27, f"index not found with name [{item}]")
            resolved.append(item)
        for name in resolved:
            coll.drop_index(name)
        return {"nIndexesWas": len(current)}

    def _drop(self, db: str, cmd: dict, connection_id: int) -> dict:
        coll = self._coll(db, cmd["drop"])
        # MongoDB 7.0 answers ok for a missing collection, and so do we.
        was = len(coll.index_information()) if self._exists(db, coll.name) else 0
        coll.drop()
        return {"ns": coll.full_name, "nIndexesWas": was}

    def _create(self, db: str, cmd: dict, connection_id: int) -> dict:
        name = cmd["create"]
        self._coll(db, name)  # validates the name
        options = set(cmd) - {"create"} - _GENERIC_FIELDS
        if options:
            raise unsupported(f"create with options {sorted(options)}")
        if self._exists(db, name):
            raise CommandError(48, f"Collection {db}.{name} already exists.")
        self.backend[db].create_collection(name)
        return {}

    def _list_collections(self, db: str, cmd: dict, connection_id: int) -> dict:
        docs = [{"name": name, "type": "collection", "options": {},
                 "info": {"readOnly": False},
                 "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}}
                for name in sorted(self.backend[db].list_collection_names())]
        if cmd.get("filter"):
            docs = [d for d in docs if filtering.filter_applies(cmd["filter"], d)]
        if cmd.get("nameOnly"):
            docs = [{"name": d["name"], "type": d["type"]} for d in docs]
        return self._cursor_reply(f"{db}.$cmd.listCollections", docs,
                                  (cmd.get("cursor") or {}).get("batchSize"))

