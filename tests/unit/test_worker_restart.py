"""The production worker's restart loop (workers/run.py): a lost Redis restarts RQ with a growing
pause while Redis keeps failing, and the pause starts small again for the next outage."""
import types

from redis.exceptions import ConnectionError as RedisConnectionError

import workers.run as run


def test_the_restart_pause_grows_during_an_outage_and_resets_after_a_healthy_run(monkeypatch):
    clock = {"now": 0.0}
    pauses = []
    # how long each RQ worker runs before losing Redis; the last one returns (a clean stop)
    runs = iter([1, 1, 1, 3600, 1, None])

    class FakeWorker:
        def __init__(self, *a, **k):
            pass

        def work(self, **kwargs):
            seconds = next(runs)
            if seconds is None:
                return True
            clock["now"] += seconds
            raise RedisConnectionError("lost")

    def sleep(seconds):
        pauses.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(run, "SimpleWorker", FakeWorker)
    monkeypatch.setattr(run, "catch_up", lambda *a: None)
    monkeypatch.setattr(run, "_queues", lambda redis: [])
    monkeypatch.setattr(run.context, "bind", lambda rt: None)
    monkeypatch.setattr(run.context, "heartbeat", lambda: None)
    monkeypatch.setattr(run.maintenance, "Maintainer", lambda rt: types.SimpleNamespace(
        start=lambda: types.SimpleNamespace(stop=lambda: None)))
    monkeypatch.setattr(run, "time", types.SimpleNamespace(monotonic=lambda: clock["now"], sleep=sleep))
    rt = types.SimpleNamespace(redis=None, mailboxes=None, settings=types.SimpleNamespace(LOG_LEVEL="WARNING"))
    assert run.run_worker(rt) is True
    assert pauses == [1.0, 2.0, 4.0, 1.0, 2.0]  # the hour-long healthy run started the count again
