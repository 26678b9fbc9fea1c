"""The message path's Lua scripts, one `.lua` file each in scripts/, registered once per client.

Each file's header names every KEYS[i] and ARGV[i] and each return code. Scripts touch only the
keys passed in KEYS; key names are built in Python (bot/pipeline/keys.py), never inside Lua.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from redis import Redis

HERE = Path(__file__).resolve().parent / "scripts"
NAMES = ("accept", "claim", "release", "renew", "unlock", "open", "commit", "park", "advance", "requeue")


@cache
def source(name: str) -> str:
    return (HERE / f"{name}.lua").read_text(encoding="utf-8")


class Scripts:
    """Every script, registered on one Redis client (redis-py reloads a script a restarted server lost)."""

    def __init__(self, redis: Redis):
        self.accept = redis.register_script(source("accept"))
        self.claim = redis.register_script(source("claim"))
        self.release = redis.register_script(source("release"))
        self.renew = redis.register_script(source("renew"))
        self.unlock = redis.register_script(source("unlock"))
        self.open = redis.register_script(source("open"))
        self.commit = redis.register_script(source("commit"))
        self.park = redis.register_script(source("park"))
        self.advance = redis.register_script(source("advance"))
        self.requeue = redis.register_script(source("requeue"))
