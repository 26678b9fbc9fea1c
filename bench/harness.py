"""The benchmark's tools: processes, wrk, percentiles, a result row."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    system: str
    ingress_rps: float = 0.0
    ingress_p50_ms: float = 0.0
    ingress_p99_ms: float = 0.0
    e2e_mps: float = 0.0
    e2e_p50_ms: float = 0.0
    e2e_p99_ms: float = 0.0
    paced_rate: float = 0.0
    paced_e2e_p50_ms: float = 0.0
    paced_e2e_p99_ms: float = 0.0
    processed: int = 0
    sent: int = 0
    extra: dict = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Procs:
    def __init__(self, log_dir: Path):
        self.log_dir, self.procs = log_dir, []

    def start(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs = []


def wait_http(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def wrk(port: int, request_file: str, connections: int, pause_ms: int = 0, max_seconds: int = 180) -> dict:
    """Send every request in the file once; returns wrk's count, duration and latency percentiles."""
    marker = request_file + ".done"
    if os.path.exists(marker):
        os.remove(marker)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max_seconds}s", "--latency", "-s", str(ROOT / "bench" / "load.lua"),
           f"http://127.0.0.1:{port}", "--", request_file, str(pause_ms), marker]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + max_seconds
    while not os.path.exists(marker) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # stops wrk's clock at the last response
    out = proc.communicate(timeout=30)[0]
    m = re.search(r"BENCH requests=(\d+) duration_s=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) non2xx=(\d+)", out)
    if not m:
        raise RuntimeError(f"wrk said:\n{out}")
    return {"requests": int(m[1]), "duration": float(m[2]), "p50": float(m[3]), "p99": float(m[4]), "non2xx": int(m[5])}



def gunicorn(port: int, app: str, workers: int, threads: int = 0) -> list[str]:
    """`threads`: gthread workers with that many threads each (as `bot serve` runs), else sync workers."""
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
            "--backlog", "2048", *(["--threads", str(threads)] if threads else []), app]
