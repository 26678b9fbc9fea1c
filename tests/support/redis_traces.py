"""Every trace a customer could leave in Redis, as one searchable string (privacy tests)."""
from __future__ import annotations

import json


def everything_in_redis(redis) -> str:
    """Every key name and value in Redis, as one string, to search for a customer's traces."""
    parts = []
    for key in redis.scan_iter(count=500):
        kind = redis.type(key).decode()
        parts.append(key.decode())
        if kind == "string":
            parts.append(redis.get(key).decode(errors="replace"))
        elif kind == "list":
            parts += [v.decode(errors="replace") for v in redis.lrange(key, 0, -1)]
        elif kind == "hash":
            parts += [f"{k.decode()}={v.decode(errors='replace')}" for k, v in redis.hgetall(key).items()]
        elif kind == "zset":
            parts += [m.decode() for m in redis.zrange(key, 0, -1)]
        elif kind == "set":
            parts += [m.decode() for m in redis.smembers(key)]
        elif kind == "stream":
            parts += [json.dumps({k.decode(): v.decode() for k, v in f.items()}) for _, f in redis.xrange(key)]
    return "\n".join(parts)
