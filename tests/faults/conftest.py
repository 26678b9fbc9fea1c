"""The fault suite's own stack: a redis-server with the shipped persistence settings (AOF), the
session's MongoDB wire server, worker processes with fault hooks (tests/faults/worker.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from bot.app import create_app
from bot.config import load_settings
from bot.pipeline import InboundMessage
from bot.pipeline import keys as pkeys
from bot.runtime import build
from tests.conftest import ARTIFACTS, ROOT, live_env
from tests.support.processes import stop, wait_until

AOF = ("--appendonly", "yes", "--appendfsync", "always")


class Workers:
    def __init__(self, env):
        self.env, self.procs = env, []
        ARTIFACTS.mkdir(exist_ok=True)

    def start(self, n: int = 1) -> list[subprocess.Popen]:
        started = []
        for _ in range(n):
            log = open(ARTIFACTS / "fault-workers.log", "ab")
            env = dict(self.env, TEST_WORKER_NAME=f"fault-{uuid.uuid4().hex[:8]}")
            proc = subprocess.Popen([sys.executable, "-m", "tests.faults.worker"], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
            self.procs.append(proc)
            started.append(proc)
        return started

    def kill(self, pid: int) -> None:
        os.kill(pid, 9)
        for p in self.procs:
            if p.pid == pid:
                p.wait(10)

    def stop(self) -> None:
        stop(self.procs)
        self.procs = []


class Stack:
    """Send messages as channels would, and read what happened."""

    def __init__(self, rt, client, workers, redis_server):
        self.rt, self.client, self.workers, self.redis_server = rt, client, workers, redis_server

    def send(self, text, *, address, channel="whatsapp", message_id=None) -> str:
        message_id = message_id or uuid.uuid4().hex
        self.rt.ingress.accept(InboundMessage(channel=channel, message_id=message_id, address=address, text=text,
                                              contact=address if channel in ("whatsapp", "sms") else None))
        return message_id

    def sent(self) -> list[dict]:
        return [json.loads(x) for x in self.rt.redis.lrange("ol:test:sent", 0, -1)]

    def sent_for(self, message_id: str) -> list[dict]:
        return [m for m in self.sent() if m["reply_id"].split(":")[1] == message_id]

    def wait(self, predicate, timeout=30, what="condition"):
        return wait_until(predicate, what, timeout)

    def idle(self, timeout=60) -> None:
        """Every mailbox drained and every reply handed to its sender."""
        from bot.pipeline import queues
        try:
            self.wait(lambda: self.rt.mailboxes.pending_count() == 0 and self.rt.outbox.pending() == 0, timeout, "idle")
        except AssertionError:
            r = self.rt.redis
            ready = r.zrange(pkeys.READY, 0, -1, withscores=True)
            raise AssertionError(
                f"not idle after {timeout}s: ready={ready[:5]} (now={time.time()*1000:.0f}) "
                f"claims={[r.pttl(pkeys.identity(m.decode()).claim) for m, _ in ready[:5]]} "
                f"mbox={[r.llen(pkeys.identity(m.decode()).mailbox) for m, _ in ready[:5]]} outbound={self.rt.outbox.pending()} "
                f"queues={[queues.queue(r, q).count for q in (queues.MESSAGES, queues.OUTBOUND)]} "
                f"kick={r.get(pkeys.KICK_MESSAGES)} workers_alive={[p.poll() is None for p in self.workers.procs]}"
                ) from None

    def set(self, key, value=None):
        if value is None:
            self.rt.redis.delete(key)
        else:
            self.rt.redis.set(key, value)


@pytest.fixture(scope="module")
def fault_stack(mongo_server, tmp_path_factory):
    from tests.conftest import own_shop_file
    from tests.support.redis_server import RedisServer

    redis_server = RedisServer(extra_args=AOF).start()
    env = live_env(redis_server, mongo_server, CLAIM_LEASE_SECONDS="1", MONGO_DB=f"faults_{uuid.uuid4().hex[:6]}",
                   STEP_BUDGET_SECONDS="6", RATE_LIMIT_PER_MINUTE="1000",  # one customer, 80 msgs/min
                   SHOP_FILE=own_shop_file(tmp_path_factory, "faults"))
    settings = load_settings(env)
    rt = build(settings, load_sample=True)
    workers = Workers(env)
    workers.start(2)
    stack = Stack(rt, create_app(rt).test_client(), workers, redis_server)
    yield stack
    workers.stop()
    redis_server.stop()


def register(stack, phone: str) -> None:
    for line in ("hi", "Fay Fault", "9 Test Lane, Springfield"):
        stack.send(line, address=phone)
    stack.idle()


def keys_of_conversation(phone):
    return pkeys.conversation(f"phone:{phone}").state
