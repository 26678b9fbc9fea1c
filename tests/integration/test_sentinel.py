"""Orderline's processes behind Sentinel (a primary, a replica, three sentinels on loopback): what an
operator runs and sees, apart from the failover itself (tests/faults/test_failover.py)."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.conftest import API_TOKEN, OPERATOR_TOKEN, ROOT
from tests.support.processes import wait_until
from tests.support.redis_sentinel import SentinelCluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(mongo_server):
    cluster = SentinelCluster().start()
    yield {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "API_TOKEN": API_TOKEN,
           "OPERATOR_TOKEN": OPERATOR_TOKEN, "MONGO_URI": mongo_server.uri, "MONGO_DB": "sentinel_it",
           "METRICS_TOKEN": "metrics-token-0123456789", **cluster.settings_env()}
    cluster.stop()


def bot(env, *args):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_doctor_sees_the_primary_its_replica_and_the_sentinels(env):
    res = bot(env, "doctor")
    assert re.search(r"^OK\s+the Redis primary 'orderline' via sentinels .*: role master, 1 replica\(s\) connected",
                     res.stdout, re.M), res.stdout
    assert re.search(r"^OK\s+3 of 3 sentinel\(s\) answered and agree on the primary", res.stdout, re.M)
    assert re.search(r"^OK\s+accepting a message waits for 1 replica\(s\), at most 500 ms", res.stdout, re.M)
    assert "password" not in res.stdout.lower() and "secret" not in res.stdout


def test_a_worker_registers_reports_healthy_and_stops_on_sigterm(env):
    assert bot(env, "healthcheck", "worker").returncode == 1  # no worker on this host yet
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: bot(env, "healthcheck", "worker").returncode == 0, "the worker to register", timeout=30)
        time.sleep(1)  # idle, blocked waiting for a job
        worker.terminate()
        started = time.monotonic()
        worker.wait(15)  # redis-py's Sentinel connection used to keep a blocked read and hang here
        assert time.monotonic() - started < 10
    finally:
        if worker.poll() is None:
            worker.kill()
