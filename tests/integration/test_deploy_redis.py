"""docker-compose.yml's Redis scripts (deploy/redis-node.sh, deploy/redis-sentinel.sh), run here with
Debian's redis-server and redis-sentinel instead of containers: two nodes and three sentinels come
up as a primary, its replica and a quorum; killing the primary promotes the replica, and the
promoted node's own config file says so (it would come back as the primary after a restart)."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest
import redis

from tests.conftest import ROOT
from tests.support.processes import wait_until
from tests.support.redis_server import free_port

pytestmark = pytest.mark.integration
PASSWORD = "0123456789abcdef"


@pytest.fixture
def compose_redis(tmp_path):
    ports = {"node": [free_port(), free_port()], "sentinel": [free_port() for _ in range(3)]}
    base = {"PATH": os.environ["PATH"], "REDIS_PASSWORD": PASSWORD, "FIRST_PRIMARY": "localhost",
            "REDIS_SENTINEL_MASTER": "orderline", "PRIMARY_PORT": str(ports["node"][0])}
    procs = []

    def start(script, name, **env):
        (tmp_path / name).mkdir()
        log = open(tmp_path / f"{name}.log", "wb")
        procs.append(subprocess.Popen(["sh", str(ROOT / "deploy" / script)], env={**base, **env, "DATA_DIR": str(tmp_path / name)},
                                      stdout=log, stderr=subprocess.STDOUT))
        return procs[-1]

    # Docker's DNS gives each node a name; here both are this host, told apart by port.
    nodes = [start("redis-node.sh", "n1", NODE_NAME="localhost", REDIS_PORT=str(ports["node"][0])),
             start("redis-node.sh", "n2", NODE_NAME="127.0.0.1", REDIS_PORT=str(ports["node"][1]))]
    for i, port in enumerate(ports["sentinel"]):
        start("redis-sentinel.sh", f"s{i}", NODE_NAME="localhost", SENTINEL_PORT=str(port), DOWN_AFTER_MS="1000",
              FAILOVER_TIMEOUT_MS="3000")
    yield ports, nodes, tmp_path
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        p.wait(10)


def test_compose_redis_scripts_make_a_primary_a_replica_and_a_quorum_that_fails_over(compose_redis):
    ports, nodes, data = compose_redis
    node = [redis.Redis(port=p, password=PASSWORD, socket_timeout=2) for p in ports["node"]]
    sentinel = redis.Redis(port=ports["sentinel"][0], password=PASSWORD, socket_timeout=2)

    def quorum():
        """Every sentinel sees the other two and knows the replica (from the primary's INFO, every 10 s)."""
        try:
            return all(redis.Redis(port=p, password=PASSWORD).sentinel_master("orderline")["num-slaves"] >= 1
                       for p in ports["sentinel"]) and \
                sentinel.execute_command("SENTINEL", "CKQUORUM", "orderline").startswith(b"OK 3 usable")
        except redis.RedisError:
            return False

    wait_until(lambda: node[1].info("replication").get("master_link_status") == "up", "the replica", timeout=20)
    wait_until(quorum, "three sentinels to agree", timeout=30)
    assert "appendonly yes" in (data / "n1" / "redis.conf").read_text()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=ports["node"][0]).ping()  # the password from the environment is required

    os.kill(nodes[0].pid, signal.SIGKILL)
    wait_until(lambda: node[1].info("replication")["role"] == "master", "the sentinels to promote the replica",
               timeout=60)
    wait_until(lambda: sentinel.sentinel_get_master_addr_by_name("orderline")[1] == ports["node"][1],
               "the sentinels to name the new primary", timeout=10)
    wait_until(lambda: "replicaof" not in (data / "n2" / "redis.conf").read_text(),
               "the promoted node's config to be rewritten", timeout=10)
