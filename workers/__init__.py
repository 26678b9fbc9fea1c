"""The worker process: RQ runs the functions in jobs.py; the drainer (drain.py) claims due mailboxes
and runs each conversation in a lane (lane.py, pool.py) through its turn (step.py), performs the
turn's effects (perform.py), commits in groups (flush.py) and sends the replies (delivery.py).
run.py starts a worker; maintenance.py and retention.py are its periodic sweeps."""
