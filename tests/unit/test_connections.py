"""How Orderline reaches Redis and MongoDB, and how it says so when it cannot (bot/connections.py)."""
import time

import pytest
from redis.sentinel import SentinelConnectionPool

from bot.config import load_settings
from bot.connections import FailoverRetry, describe_mongo, describe_redis, node_options, redis_client

BASE = {"MONGO_URI": "mongodb://app:mongo-secret@m1:27017,m2:27017/?replicaSet=rs0", "API_TOKEN": "a" * 20,
        "OPERATOR_TOKEN": "o" * 20}


def test_descriptions_name_setting_and_host_but_never_a_password():
    plain = load_settings({**BASE, "REDIS_URL": "redis://:redis-secret@cache.internal:6380/2"})
    assert describe_redis(plain) == "Redis at cache.internal:6380 (REDIS_URL)"
    assert describe_mongo(plain) == "MongoDB at m1:27017,m2:27017 (MONGO_URI)"
    sentinel = load_settings({**BASE, "REDIS_SENTINELS": "s1:26379,s2:26379", "REDIS_URL": "redis://:redis-secret@x/0"})
    assert "s1:26379,s2:26379 (REDIS_SENTINELS" in describe_redis(sentinel)
    for text in (describe_redis(plain), describe_mongo(plain), describe_redis(sentinel)):
        assert "secret" not in text


def test_behind_sentinel_redis_url_gives_credentials_database_and_tls_only():
    assert node_options("rediss://user:pw@ignored:1/3") == {"username": "user", "password": "pw", "db": 3, "ssl": True}
    assert node_options(None) == {}


def test_a_sentinel_client_asks_the_sentinels_and_rides_out_a_failover():
    s = load_settings({**BASE, "REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_URL": "redis://:pw@orderline/1"})
    client = redis_client(s)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "orderline"
    assert pool.connection_kwargs["password"] == "pw" and pool.connection_kwargs["db"] == 1
    assert isinstance(pool.connection_kwargs["retry"], FailoverRetry) and pool.connection_kwargs["retry"].seconds == 15


class _Sentinel:
    """One sentinel's answer to SENTINEL MASTERS (parsed as redis-py parses it), or no answer."""

    def __init__(self, port=None, epoch=0, down=False):
        self.port, self.epoch, self.down = port, epoch, down

    def sentinel_masters(self):
        import redis

        if self.down:
            raise redis.ConnectionError("no answer")
        return {"orderline": {"ip": "10.0.0.1", "port": self.port, "config-epoch": self.epoch, "is_master": True,
                              "is_sdown": False, "is_odown": False, "num-other-sentinels": 2}}


def test_the_primary_is_the_one_named_by_the_newest_configuration_not_the_first_sentinel():
    """Just after a failover, a sentinel that has not heard of it names the old primary, which a
    supervisor may have restarted: it answers as a primary until it is demoted, and what is written
    to it is lost. The sentinel that led the failover has the higher epoch: its primary wins."""
    from bot.connections import NewestSentinel

    sentinel = NewestSentinel([])
    sentinel.sentinels = [_Sentinel(port=6379, epoch=0), _Sentinel(down=True), _Sentinel(port=6380, epoch=1)]
    assert sentinel.discover_master("orderline") == ("10.0.0.1", 6380)
    sentinel.sentinels = [_Sentinel(port=6380, epoch=1), _Sentinel(port=6379, epoch=0)]
    assert sentinel.discover_master("orderline") == ("10.0.0.1", 6380)
    sentinel.sentinels = [_Sentinel(down=True)]
    with pytest.raises(Exception, match="No master found"):
        sentinel.discover_master("orderline")


@pytest.mark.parametrize("env", [{"REDIS_URL": "redis://127.0.0.1:1/0"}, {"REDIS_SENTINELS": "127.0.0.1:1"}])
def test_a_lost_connection_is_retried_for_the_failover_budget_then_raised(env):
    import redis

    client = redis_client(load_settings({**BASE, **env, "REDIS_FAILOVER_SECONDS": "1"}))
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    assert 0.9 <= time.monotonic() - started < 1.8  # the budget once, not once per nested retry loop
