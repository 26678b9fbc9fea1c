"""A tiny MongoDB wire-protocol server backed by mongomock. Tests only.

Why this exists: our integration tests run several real worker processes that
must share one MongoDB store through the real ``pymongo`` client, but no
MongoDB server can be installed where the tests run, and mongomock only works
inside one process. This module puts one ``mongomock.MongoClient`` behind a
TCP socket speaking enough of the wire protocol for
``pymongo.MongoClient("mongodb://127.0.0.1:PORT/?directConnection=true")``.

Split of responsibilities:

* here: framing (OP_MSG 2013; legacy OP_QUERY 2004 answered with OP_REPLY 1,
  which old drivers use for the first ``isMaster``), one thread per
  connection, start/stop, and a ``python -m`` entry point;
* ``mongo_commands.py``: what each command does against mongomock and how the
  reply must look for pymongo to build the right results and exceptions.

Not supported (answered with an error, never silently wrong): transactions,
arrayFilters, collation, tailable cursors, compression, TLS, auth. Never ship
this; it is a test double.

Usage::

    server = MongoWireServer().start()
    client = pymongo.MongoClient(server.uri)
    ...
    server.stop()

or as a separate process (prints the URI as the first stdout line)::

    python -m tests.support.mongo_wire --port 0
"""
from __future__ import annotations

import argparse
import itertools
import logging
import signal
import socket
import socketserver
import struct
import sys
import threading

import bson
from bson.codec_options import DEFAULT_CODEC_OPTIONS

from tests.support.mongo_commands import MAX_MESSAGE_SIZE, CommandExecutor, error_reply

log = logging.getLogger("tests.support.mongo_wire")

OP_REPLY = 1
OP_QUERY = 2004
OP_MSG = 2013

FLAG_CHECKSUM_PRESENT = 1 << 0
FLAG_MORE_TO_COME = 1 << 1

_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
_INT32 = struct.Struct("<i")
_UINT32 = struct.Struct("<I")
_OP_REPLY_PREFIX = struct.Struct("<iqii")  # responseFlags, cursorID, startingFrom, numberReturned
# Decode as pymongo's defaults do: plain dicts, naive UTC datetimes, UUIDs left
# as Binary so they round-trip untouched whatever the client's representation.
CODEC_OPTIONS = DEFAULT_CODEC_OPTIONS


class ProtocolError(Exception):
    """The peer sent bytes we cannot frame; the connection gets closed."""


def parse_op_msg(payload: bytes) -> tuple[int, dict]:
    """Return (flagBits, command) from an OP_MSG body (after the header).

    Kind-1 document sequences (pymongo sends ``documents``, ``updates`` and
    ``deletes`` that way) are folded into the command under their identifier,
    which is exactly how the server is specified to treat them.
    """
    (flags,) = _UINT32.unpack_from(payload, 0)
    end = len(payload) - (4 if flags & FLAG_CHECKSUM_PRESENT else 0)  # CRC-32C not checked
    pos, body, sequences = 4, None, {}
    while pos < end:
        kind = payload[pos]
        pos += 1
        (size,) = _INT32.unpack_from(payload, pos)
        if size < 5 or pos + size > end:
            raise ProtocolError(f"bad OP_MSG section size {size}")
        if kind == 0:
            if body is not None:
                raise ProtocolError("OP_MSG with two body sections")
            body = bson.decode(payload[pos:pos + size], CODEC_OPTIONS)
        elif kind == 1:
            name_end = payload.index(b"\x00", pos + 4, pos + size)
            identifier = payload[pos + 4:name_end].decode()
            docs = bson.decode_all(payload[name_end + 1:pos + size], CODEC_OPTIONS)
            sequences.setdefault(identifier, []).extend(docs)
        else:
            raise ProtocolError(f"unknown OP_MSG section kind {kind}")
        pos += size
    if body is None:
        raise ProtocolError("OP_MSG without a body section")
    for identifier, docs in sequences.items():
        body.setdefault(identifier, []).extend(docs)
    return flags, body


def parse_op_query(payload: bytes) -> tuple[str, dict]:
    """Return (database, command) from a legacy OP_QUERY on ``<db>.$cmd``."""
    name_end = payload.index(b"\x00", 4)
    namespace = payload[4:name_end].decode()
    pos = name_end + 1 + 8  # numberToSkip, numberToReturn
    (size,) = _INT32.unpack_from(payload, pos)
    query = bson.decode(payload[pos:pos + size], CODEC_OPTIONS)
    if "$query" in query:  # wrapped form used with $readPreference
        query = query["$query"]
    db, _, coll = namespace.partition(".")
    if coll != "$cmd":
        raise ProtocolError(f"OP_QUERY on {namespace!r}: only commands are supported")
    return db, query


def build_op_msg(request_id: int, response_to: int, reply: dict) -> bytes:
    body = bson.encode(reply)
    length = _HEADER.size + 4 + 1 + len(body)
    return b"".join((_HEADER.pack(length, request_id, response_to, OP_MSG),
                     _UINT32.pack(0), b"\x00", body))


def build_op_reply(request_id: int, response_to: int, reply: dict) -> bytes:
    body = bson.encode(reply)
    length = _HEADER.size + _OP_REPLY_PREFIX.size + len(body)
    return b"".join((_HEADER.pack(length, request_id, response_to, OP_REPLY),
                     _OP_REPLY_PREFIX.pack(0, 0, 0, 1), body))


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Read exactly size bytes; None if the peer closed before the first byte."""
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            if got == 0:
                return None
            raise ProtocolError("connection closed mid-message")
        got += n
    return bytes(buf)


class _ConnectionHandler(socketserver.BaseRequestHandler):
    """Serves one client connection: read a message, run it, answer, repeat."""

    server: _ThreadingServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection_id = next(self.server.connection_ids)
        self.server.track(sock, add=True)
        try:
            while self._serve_one(sock, connection_id):
                pass
        except (ConnectionError, OSError):
            pass  # client went away (or the server is stopping)
        except ProtocolError as exc:
            log.warning("mongo_wire: closing connection %d: %s", connection_id, exc)
        finally:
            self.server.track(sock, add=False)

    def _serve_one(self, sock: socket.socket, connection_id: int) -> bool:
        header = _recv_exact(sock, _HEADER.size)
        if header is None:
            return False
        length, request_id, _, op_code = _HEADER.unpack(header)
        if not _HEADER.size < length <= MAX_MESSAGE_SIZE:
            raise ProtocolError(f"message length {length} out of range")
        payload = _recv_exact(sock, length - _HEADER.size)
        if payload is None:
            raise ProtocolError("connection closed mid-message")
        executor = self.server.executor
        reply_id = next(self.server.request_ids)
        if op_code == OP_MSG:
            flags, cmd = parse_op_msg(payload)
            db = cmd.pop("$db", None)
            reply = (executor.execute(db, cmd, connection_id) if db
                     else error_reply(40414, "BSON field '$db' is missing but a required field"))
            if flags & FLAG_MORE_TO_COME:
                return True  # unacknowledged write (w=0): the client expects no answer
            sock.sendall(build_op_msg(reply_id, request_id, reply))
        elif op_code == OP_QUERY:
            db, cmd = parse_op_query(payload)
            sock.sendall(build_op_reply(reply_id, request_id,
                                        executor.execute(db, cmd, connection_id)))
        else:
            raise ProtocolError(f"unsupported opcode {op_code}")
        return True


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 makes bursts of pool connections from several
    # worker processes wait for SYN retransmits (~1 s each).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], executor: CommandExecutor):
        super().__init__(address, _ConnectionHandler)
        self.executor = executor
        self.connection_ids = itertools.count(1)
        self.request_ids = itertools.count(1)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._open_lock:
            (self._open.add if add else self._open.discard)(sock)

    def close_connections(self) -> None:
        """Unblock handler threads stuck in recv so stop() really stops."""
        with self._open_lock:
            socks = list(self._open)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class MongoWireServer:
    """One mongomock store served over TCP to any number of pymongo clients.

    ``port=0`` picks a free port; read ``.port`` / ``.uri`` after ``start()``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.executor = CommandExecutor()
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MongoWireServer:
        if self._server is not None:
            raise RuntimeError("MongoWireServer already started")
        self._server = _ThreadingServer((self.host, self.port), self.executor)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"mongo-wire-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def __enter__(self) -> MongoWireServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Foreground mode: print the URI as the first stdout line, serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server = MongoWireServer(args.host, args.port).start()
    print(server.uri, flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
