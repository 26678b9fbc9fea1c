"""The lanes a worker process runs at once: a bounded thread pool that knows how much room it has.

Why threads: a turn mostly waits (on the language model, the store, a provider), so one process
can keep many customers' turns in flight while each customer's own messages stay in one lane.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


class LanePool:
    def __init__(self, size: int, inline: bool = False):
        self.size, self.inline = size, inline
        self._busy = 0
        self._lock = threading.Lock()
        self._pool = None if inline else ThreadPoolExecutor(max_workers=size, thread_name_prefix="lane")

    def free(self) -> int:
        with self._lock:
            return self.size - self._busy

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Run `fn` in a lane (in the caller's thread when inline: tests, the console)."""
        with self._lock:
            self._busy += 1
        if self._pool is None:
            future: Future = Future()
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to whoever reads the future, as a pool would
                future.set_exception(exc)
            finally:
                self._done()
            return future
        future = self._pool.submit(fn)
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        with self._lock:
            self._busy -= 1
