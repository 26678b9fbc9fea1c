"""Small helpers the multi-process tests share: stopping worker processes, waiting for a condition."""
from __future__ import annotations

import subprocess
import time


def stop(procs) -> None:
    """SIGTERM every process still running, wait for each, kill the ones that don't stop."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_until(predicate, what: str = "condition", timeout: float = 30, every: float = 0.05):
    """The first truthy value of `predicate()`, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
