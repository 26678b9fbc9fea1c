"""Accepting a message, and sending a reply, wait for a replica (bot/pipeline/replication.py), on a
real primary and replica."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid

import pytest
import redis

from bot.common.errors import QueueUnavailable
from bot.pipeline import InboundMessage
from bot.pipeline import keys as pkeys
from bot.pipeline.replication import SHORT, STATS, WAITS, wait_for_replicas
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    """Each test starts as a process that has not seen a wait run out."""
    import bot.pipeline.replication as replication

    monkeypatch.setattr(replication, "_degraded", False)


@pytest.fixture
def pair():
    primary = RedisServer(extra_args=("--repl-diskless-sync-delay", "0")).start()
    replica = RedisServer(extra_args=("--replicaof", "127.0.0.1", str(primary.port))).start()
    client = redis.Redis(port=replica.port)
    deadline = time.monotonic() + 10
    while client.info("replication").get("master_link_status") != "up":
        assert time.monotonic() < deadline, "the replica did not sync"
        time.sleep(0.05)
    yield primary, replica
    for server in (replica, primary):
        if server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


def frozen(server, seconds: float | None = None):
    """SIGSTOP a server (it stops acknowledging); SIGCONT it after `seconds` from a thread."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    if seconds is not None:
        threading.Timer(seconds, os.kill, (server.proc.pid, signal.SIGCONT)).start()


def test_the_wait_covers_a_write_made_on_another_connection(pair):
    primary, replica = pair
    accepting, waiting = redis.Redis(port=primary.port), redis.Redis(port=primary.port)
    waiting.ping()  # its own connection, which has written nothing yet
    frozen(replica, 0.4)
    accepting.set("accepted", "1")  # the accept ran on one pooled connection...
    started = time.monotonic()
    assert wait_for_replicas(waiting, 1, 5000) == 1  # ... the wait runs on another
    assert time.monotonic() - started >= 0.3  # it really waited for the replica to wake up
    assert redis.Redis(port=replica.port).get("accepted") == b"1"


def test_a_replica_that_does_not_answer_costs_the_bound_and_is_counted(pair, caplog):
    primary, replica = pair
    client = redis.Redis(port=primary.port)
    frozen(replica)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="orderline.replication"):
        assert wait_for_replicas(client, 1, 200) == 0
    assert 0.19 <= time.monotonic() - started < 2
    assert client.hget(STATS, SHORT) == b"1" and client.hget(STATS, WAITS) == b"1"
    assert "REDIS_WAIT_REPLICAS" in caplog.text


def test_while_replicas_are_missing_only_one_wait_a_second_pays_the_bound(pair):
    primary, replica = pair
    client = redis.Redis(port=primary.port)
    frozen(replica)
    assert wait_for_replicas(client, 1, 300) == 0  # the first pays the bound...
    started = time.monotonic()
    assert [wait_for_replicas(client, 1, 300) for _ in range(20)] == [0] * 20  # ...the next ones don't
    assert time.monotonic() - started < 0.2
    os.kill(replica.proc.pid, signal.SIGCONT)
    deadline = time.monotonic() + 5
    while wait_for_replicas(client, 1, 300) == 0:  # a probe finds the replica back: full waits again
        assert time.monotonic() < deadline
        time.sleep(0.05)
    frozen(replica, 0.2)
    client.set("later", "1")
    started = time.monotonic()
    assert wait_for_replicas(client, 1, 2000) == 1 and time.monotonic() - started >= 0.15


def test_asking_for_no_replica_makes_no_round_trip():
    assert wait_for_replicas(redis.Redis(port=1), 0, 500) == 0  # port 1: any command would fail


def test_ingress_answers_only_once_a_replica_has_the_message(pair, store):
    from bot.config import load_settings
    from bot.runtime import build
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN

    primary, replica = pair
    settings = load_settings({"REDIS_URL": primary.url, "MONGO_URI": "mongodb://unused", "API_TOKEN": API_TOKEN,
                              "OPERATOR_TOKEN": OPERATOR_TOKEN, "REDIS_WAIT_REPLICAS": "1",
                              "REDIS_WAIT_TIMEOUT_MS": "5000"})
    rt = build(settings, redis=redis.Redis.from_url(primary.url), store=store, senders={}, load_sample=False)

    def message():
        return InboundMessage(channel="whatsapp", message_id=uuid.uuid4().hex, address="+14155550100", text="hi",
                              contact="+14155550100")

    assert rt.ingress.accept(message())
    assert redis.Redis(port=primary.port).hget(STATS, WAITS) == b"1"

    frozen(replica)  # the replica stops acknowledging; then the primary dies while the webhook waits
    outcome = []
    accepting = threading.Thread(target=lambda: outcome.append(_accept(rt, message())))
    accepting.start()
    time.sleep(0.3)
    assert accepting.is_alive()  # still waiting for the replica: not answered yet
    os.kill(primary.proc.pid, signal.SIGKILL)
    accepting.join(10)
    assert outcome == ["QueueUnavailable"]  # answered 503: the channel will retry, and nothing claims success


def _accept(rt, message) -> str:
    try:
        return str(rt.ingress.accept(message))
    except QueueUnavailable:
        return "QueueUnavailable"


class Recorder:
    channel = "telegram"

    def __init__(self):
        self.sent = []

    def send(self, message, part_sent=None):
        self.sent.append((time.monotonic(), message.reply_id))


def reply(n: int):
    from types import SimpleNamespace

    return SimpleNamespace(reply_id=f"telegram:{n}:0", text="hello")


def delivery_on(primary, sender):
    """The pipeline's delivery on this primary, waiting for one replica, sending through `sender`."""
    from types import SimpleNamespace

    from bot import pipeline
    from bot.pipeline import Heartbeat
    from workers.delivery import Delivery

    client = redis.Redis(port=primary.port)
    parts = pipeline.build(client, 30_000, 86400, replicas=1, replica_timeout_ms=5000)
    rt = SimpleNamespace(redis=client, outbox=parts.outbox, replicas=parts.replicas,
                         settings=SimpleNamespace(RETRY_WINDOW_SECONDS=900), sender=lambda channel: sender)
    return Delivery(rt, Heartbeat(client, parts.scripts, 30_000)), parts.outbox


def queued(n: int):
    from bot.pipeline import OutboundMessage

    return OutboundMessage(channel="telegram", address="42", text=f"reply {n}", reply_id=f"telegram:m{n}:0")


def test_a_reply_leaves_only_once_a_replica_has_what_produced_it(pair):
    primary, replica = pair
    inner = Recorder()
    delivery, outbox = delivery_on(primary, inner)
    outbox.push([queued(1)])  # the commit that produced the reply
    frozen(replica, 0.4)
    started = time.monotonic()
    assert delivery.run(2) == 1
    assert inner.sent and inner.sent[0][0] - started >= 0.3  # held until the replica woke up
    assert redis.Redis(port=replica.port).llen(pkeys.identity("telegram:42").outbox) == 0  # and the pop reached it


def test_a_sent_reply_is_popped_on_the_replica_before_the_next_is_sent(pair):
    """A failover after a send must not lose its pop (the reply would go out twice): each pop is
    waited for before the next send, so at most the reply in flight can be repeated."""
    primary, replica = pair
    inner = Recorder()
    replica_client = redis.Redis(port=replica.port)
    outbox_key = pkeys.identity("telegram:42").outbox
    seen_on_replica = []

    class Watching(Recorder):
        def send(self, message, part_sent=None):
            seen_on_replica.append(replica_client.llen(outbox_key))
            inner.send(message)

    delivery, outbox = delivery_on(primary, Watching())
    outbox.push([queued(n) for n in range(1, 4)])
    assert delivery.run(2) == 3
    assert [m for _, m in inner.sent] == ["telegram:m1:0", "telegram:m2:0", "telegram:m3:0"]
    assert seen_on_replica == [3, 2, 1]  # each send happened with the previous pops already replicated
