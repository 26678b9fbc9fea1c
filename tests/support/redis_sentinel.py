"""Redis with failover on loopback, for tests: a primary, a replica and three sentinels (Debian's
redis-server and redis-sentinel), with passwords, append-only files, and a fast failure detector.

    cluster = SentinelCluster().start()
    cluster.settings_env()   -> REDIS_URL / REDIS_SENTINELS / ... for Orderline
    cluster.kill_primary()   -> SIGKILL, like a crashed machine (nothing flushed, no goodbye)
    cluster.wait_failover()  -> until the sentinels name the replica as the new primary
    cluster.restart_old_primary() -> it comes back and the sentinels make it a replica
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis

from tests.support.redis_server import RedisServer, free_port

MASTER = "orderline"
PASSWORD = "node-secret-0123456789"
SENTINEL_PASSWORD = "sentinel-secret-0123456789"
PERSISTENCE = ("--appendonly", "yes", "--appendfsync", "everysec")  # what docker-compose.yml ships
FAST_SYNC = ("--repl-diskless-sync-delay", "0")  # a replica syncs at once (the default waits 5 s for others)


def require_sentinel() -> str:
    binary = shutil.which("redis-sentinel")
    if binary is None:
        raise RuntimeError("redis-sentinel not found: run `make test` (it installs Debian's redis-sentinel)")
    return binary


class SentinelCluster:
    def __init__(self, sentinels: int = 3, down_after_ms: int = 1000, failover_timeout_ms: int = 5000):
        self.count, self.down_after_ms, self.failover_timeout_ms = sentinels, down_after_ms, failover_timeout_ms
        auth = ("--requirepass", PASSWORD, "--masterauth", PASSWORD, *FAST_SYNC)
        self.primary = RedisServer(extra_args=(*PERSISTENCE, *auth), password=PASSWORD)
        self.replica = RedisServer(extra_args=(*PERSISTENCE, *auth, "--replicaof", "127.0.0.1", str(self.primary.port)),
                                   password=PASSWORD)
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.dir = tempfile.mkdtemp(prefix="orderline-sentinel-")
        self.sentinels: list[subprocess.Popen] = []

    # -- what Orderline is given -------------------------------------------------------------
    @property
    def addresses(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)

    def settings_env(self) -> dict:
        return {"REDIS_URL": f"redis://:{PASSWORD}@{MASTER}/0", "REDIS_SENTINELS": self.addresses,
                "REDIS_SENTINEL_MASTER": MASTER, "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD}

    def client(self, server: RedisServer) -> redis.Redis:
        return redis.Redis(port=server.port, password=PASSWORD, socket_timeout=5)

    def sentinel(self, i: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[i], password=SENTINEL_PASSWORD, socket_timeout=2)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 30) -> SentinelCluster:
        binary = require_sentinel()
        self.primary.start()
        self.replica.start()
        self._wait(lambda: self.client(self.replica).info("replication").get("master_link_status") == "up",
                   timeout, "the replica to sync")
        for i, port in enumerate(self.sentinel_ports):
            conf = os.path.join(self.dir, f"sentinel-{i}.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.dir}\n"
                        f"requirepass {SENTINEL_PASSWORD}\n"
                        f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2\n"
                        f"sentinel auth-pass {MASTER} {PASSWORD}\n"
                        f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}\n"
                        f"sentinel failover-timeout {MASTER} {self.failover_timeout_ms}\n"
                        f"sentinel parallel-syncs {MASTER} 1\n")
            self.sentinels.append(subprocess.Popen([binary, conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait(self._sentinels_ready, timeout, "the sentinels to find each other and the replica")
        return self

    def _sentinels_ready(self) -> bool:
        try:
            for i in range(self.count):
                state = self.sentinel(i).sentinel_master(MASTER)
                if state["num-other-sentinels"] != self.count - 1 or state["num-slaves"] < 1:
                    return False
            return True
        except redis.RedisError:
            return False

    def master_port(self) -> int | None:
        for i in range(self.count):
            try:
                host, port = self.sentinel(i).sentinel_get_master_addr_by_name(MASTER)
                return int(port)
            except (redis.RedisError, TypeError):
                continue
        return None

    def kill_primary(self) -> int:
        """SIGKILL the current primary; returns the port it listened on."""
        port = self.master_port()
        server = self.primary if port == self.primary.port else self.replica
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        self.killed = server
        return port

    def wait_failover(self, old_port: int, timeout: float = 30) -> float:
        """Seconds until the sentinels name a new primary that answers as one."""
        started = time.monotonic()

        def promoted():
            port = self.master_port()
            if port in (None, old_port):
                return False
            server = self.primary if port == self.primary.port else self.replica
            return self.client(server).info("replication")["role"] == "master"

        self._wait(promoted, timeout, "the sentinels to promote the replica")
        return time.monotonic() - started

    def restart_old_primary(self, timeout: float = 30) -> None:
        """Start the killed server again (same port, same files): the sentinels turn it into a replica."""
        self.killed.start()
        self._wait(lambda: self.client(self.killed).info("replication").get("master_link_status") == "up",
                   timeout, "the old primary to rejoin as a replica")

    def stop(self) -> None:
        for p in self.sentinels:
            if p.poll() is None:
                p.terminate()
        for p in self.sentinels:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.primary.stop()
        self.replica.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _wait(predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")
