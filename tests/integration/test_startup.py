"""Start-up that explains itself: an unreachable Redis or MongoDB is one line naming the setting and
the host, whichever command meets it; `dev --host` listens beyond loopback and warns."""
from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import API_TOKEN, OPERATOR_TOKEN, ROOT

pytestmark = pytest.mark.integration

TOKENS = {"API_TOKEN": API_TOKEN, "OPERATOR_TOKEN": OPERATOR_TOKEN}
NO_MONGO = "mongodb://app:mongo-pw@127.0.0.1:1/?serverSelectionTimeoutMS=500"


def run(*args, env, cmd=None, timeout=60):
    base = {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), **TOKENS}
    return subprocess.run(cmd or [sys.executable, "-m", "bot", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=timeout)


def one_line(res) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["worker"], ["serve"], ["load-catalog", "bot/data/catalog.json"], ["dev"]])
def test_an_unreachable_redis_is_one_line_naming_setting_and_host(command):
    res = run(*command, env={"REDIS_URL": "redis://:redis-pw@127.0.0.1:1/0", "MONGO_URI": NO_MONGO})
    line = one_line(res)
    assert res.returncode == 3
    assert line.startswith("orderline: cannot reach Redis at 127.0.0.1:1 (REDIS_URL)"), line
    assert "pw" not in line


@pytest.mark.parametrize("command", [["worker"], ["serve"], ["load-catalog", "bot/data/catalog.json"]])
def test_an_unreachable_mongodb_is_one_line_naming_setting_and_host(redis_server, command):
    res = run(*command, env={"REDIS_URL": redis_server.url, "MONGO_URI": NO_MONGO})
    line = one_line(res)
    assert res.returncode == 3
    assert line.startswith("orderline: cannot reach MongoDB at 127.0.0.1:1 (MONGO_URI)"), line
    assert "mongo-pw" not in line


def test_gunicorn_started_directly_says_the_same_line_and_stops(redis_server):
    """The Procfile runs gunicorn itself: the app's import prints the line and gunicorn halts."""
    cmd = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "bot.wsgi:app"]
    res = run(env={"REDIS_URL": redis_server.url, "MONGO_URI": NO_MONGO}, cmd=cmd)
    assert res.returncode != 0
    ours = [line for line in res.stderr.splitlines() if line.startswith("orderline:")]
    assert ours and ours[0].startswith("orderline: cannot reach MongoDB at 127.0.0.1:1 (MONGO_URI)")
    assert "Traceback" not in res.stderr


def test_doctor_reports_each_service_on_its_own_line(redis_server):
    res = run("doctor", env={"REDIS_URL": redis_server.url, "MONGO_URI": NO_MONGO})
    assert res.returncode == 1  # MongoDB failed
    assert re.search(r"^OK\s+Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\): role master, 0 replica", res.stdout, re.M)
    assert re.search(r"^FAIL\s+cannot reach MongoDB at 127\.0\.0\.1:1 \(MONGO_URI\)", res.stdout, re.M)
    assert re.search(r"^WARN\s+REDIS_WAIT_REPLICAS=0", res.stdout, re.M)


def test_dev_listens_beyond_loopback_when_asked_and_warns():
    proc = subprocess.Popen([sys.executable, "-m", "bot", "dev", "--host", "0.0.0.0", "--port", "0"], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            match = re.search(r"Chat in your browser:\s+(http://\S+)/", proc.stdout.readline())
            url = match and match.group(1)
        assert url and "127.0.0.1" not in url, url  # the address others can reach, not loopback
        port = url.rsplit(":", 1)[1]
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"WARNING: listening on 0.0.0.0:{port}, beyond this machine" in err
