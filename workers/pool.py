"""The lanes a worker process runs at once: a bounded set of threads that knows how much room it has.

Why threads: a turn mostly waits (on the language model, the store, a provider), so one process
can keep many customers' turns in flight while each customer's own messages stay in one lane.
Why not concurrent.futures' pool: its threads are joined at exit, so one step hung for good
(parked by the heartbeat, its thread left behind) would keep the worker from ever shutting down.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class LanePool:
    def __init__(self, size: int, inline: bool = False):
        self.size, self.inline = size, inline
        self._busy = 0
        self._lock = threading.Lock()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def free(self) -> int:
        with self._lock:
            return self.size - self._busy

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Run `fn` in a lane (in the caller's thread when inline: tests, the console)."""
        future: Future = Future()
        with self._lock:
            self._busy += 1
            if not self.inline and len(self._threads) < min(self._busy, self.size):
                thread = threading.Thread(target=self._serve, name=f"lane-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        if self.inline:
            self._run(fn, future)
        else:
            self._work.put((fn, future))
        return future

    def _serve(self) -> None:
        while True:
            fn, future = self._work.get()
            self._run(fn, future)

    def _run(self, fn: Callable[[], Any], future: Future) -> None:
        try:
            if future.set_running_or_notify_cancel():
                future.set_result(fn())
        except BaseException as exc:  # handed to whoever reads the future, as a pool would
            future.set_exception(exc)
        finally:
            with self._lock:
                self._busy -= 1
