"""Every Lua script of the message path, directly: each return code, and what each writes.

They run on a real redis-server (what production runs) and on fakeredis (the embedded default).
"""
from __future__ import annotations

import re

import fakeredis
import pytest
import redis

from bot.pipeline import Scripts, keys, scripts

NOW = 10_000_000  # ms; scripts take the time as an argument


@pytest.fixture(params=["redis-server", "fakeredis"])
def r(request):
    if request.param == "fakeredis":
        client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    else:
        # a database of its own: the live stack's worker processes sweep leases in db 0 by the real
        # clock, and these scripts run at a fake one (NOW), so a sweep would take their claims
        client = redis.Redis.from_url(request.getfixturevalue("redis_server").url.rsplit("/", 1)[0] + "/6")
        client.flushdb()
    return client


@pytest.fixture
def s(r):
    return Scripts(r)


def test_every_script_has_its_header_and_builds_no_key_name():
    for name in scripts.NAMES:
        source = scripts.source(name)
        header = source.split("]]", 1)[0]
        assert header.startswith(f"--[[ {name}:"), name
        used_keys = set(re.findall(r"KEYS\[(\d+)", source.split("]]", 1)[1]))
        for n in used_keys:  # every key the body uses is named in the header (ranges count)
            assert f"KEYS[{n}]" in header or re.search(r"KEYS\[\d+ \.\.", header), (name, n)
        assert "ARGV[1]" in header and "Returns" in header, name
        body = source.split("]]", 1)[1]
        locals_from_keys = set(re.findall(r"local (\w+)(?:, (\w+))?(?:, \w+)? = KEYS", body))
        allowed = {x for pair in locals_from_keys for x in pair if x}
        for key_arg in re.findall(r"redis\.call\('\w+', ([^,)]+)", body):
            assert key_arg.startswith("KEYS[") or key_arg in allowed, (name, key_arg)


# -- accept -------------------------------------------------------------------------------------

def accept(s, message_id="m1", refused="", address="+1", seen=True, now=NOW):
    k = keys.identity("sms:+1")
    return s.accept(keys=[keys.dedupe("sms", message_id), k.mailbox, keys.READY, keys.KICK_MESSAGES, keys.STATS,
                          refused, k.seen if seen else ""],
                    args=[60, f'{{"id":"{message_id}"}}', k.tag, now, 30, "sms", address, 600])


def test_accept_stores_once_kicks_once_and_refuses_an_opted_out_sender(r, s):
    assert accept(s, "m1") == 2  # stored, and the caller kicks a drain job
    assert accept(s, "m2") == 1  # stored; a job is already waiting
    assert accept(s, "m1") == 0  # a redelivery: nothing stored
    r.sadd("optout", "+1")
    assert accept(s, "m3", refused="optout") == 3
    k = keys.identity("sms:+1")
    assert r.lrange(k.mailbox, 0, -1) == [b'{"id":"m1"}', b'{"id":"m2"}']
    assert r.zscore(keys.READY, k.tag) == NOW
    stats = r.hgetall(keys.STATS)
    assert stats[b"messages_in:sms"] == b"2" and stats[b"duplicates:sms"] == b"1"
    assert stats[b"ignored:sms_opted_out"] == b"1"


def test_accept_records_when_the_sender_last_wrote_only_for_what_it_stores(r, s):
    from bot.pipeline import seen

    k = keys.identity("sms:+1")
    assert seen.last_inbound(r, "sms:+1") is None
    assert accept(s, "m1", seen=False) == 2  # the shop's own control message: not the customer writing
    assert r.get(k.seen) is None
    assert accept(s, "m2", now=NOW + 5000) == 1
    assert int(r.get(k.seen)) == NOW + 5000 and 0 < r.ttl(k.seen) <= 600
    assert seen.last_inbound(r, "sms:+1") == (NOW + 5000) / 1000
    assert accept(s, "m2", now=NOW + 9000) == 0  # a redelivery does not move it
    r.sadd("optout", "+1")
    assert accept(s, "m3", refused="optout", now=NOW + 9000) == 3  # nor does a refused message
    assert int(r.get(k.seen)) == NOW + 5000


# -- claim, release, renew ------------------------------------------------------------------------

def queue(r, tag, *items, due=NOW):
    k = keys.tagged(tag)
    for item in items:
        r.rpush(k.mailbox, item)
    r.zadd(keys.READY, {tag: due})
    return k


def claim(s, tags, token="t1", now=NOW, lease=1000):
    ks = [keys.tagged(t) for t in tags]
    got = s.claim(keys=[keys.READY, *(k.claim for k in ks), *(k.mailbox for k in ks)],
                  args=[now, lease, token, *tags])
    return [(got[i].decode(), int(got[i + 1]), got[i + 2].decode()) for i in range(0, len(got), 3)]


def release(s, tag, token, retry=0, now=NOW):
    k = keys.tagged(tag)
    return s.release(keys=[k.claim, k.mailbox, keys.READY], args=[token, tag, now, retry])


def test_claim_takes_due_free_queues_and_postpones_the_rest(r, s):
    queue(r, "a", "a1")
    queue(r, "later", "x", due=NOW + 5000)
    queue(r, "empty")
    r.zadd(keys.READY, {"empty": NOW})
    assert claim(s, ["a", "later", "empty", "absent"]) == [("a", 0, "a1")]
    assert r.zscore(keys.READY, "later") == NOW + 5000  # not due: left alone
    assert r.zscore(keys.READY, "empty") is None  # nothing in it: no longer waiting
    assert r.zscore(keys.READY, "a") == NOW + 1000  # held until the lease's end
    r.zadd(keys.READY, {"a": NOW})
    assert claim(s, ["a"], token="t2") == []  # held by t1
    assert r.zscore(keys.READY, "a") == NOW + 1000  # postponed to the lease's end


def test_a_lease_that_ran_out_counts_a_crash_against_the_head(r, s):
    queue(r, "a", "head", "next")
    assert claim(s, ["a"], "t1") == [("a", 0, "head")]
    # t1 dies: no release; its lease runs out
    assert claim(s, ["a"], "t2", now=NOW + 2000) == [("a", 1, "head")]
    assert claim(s, ["a"], "t3", now=NOW + 4000) == [("a", 2, "head")]
    assert release(s, "a", "t3", now=NOW + 4000) == 1  # a clean release keeps the count for this head
    assert claim(s, ["a"], "t4", now=NOW + 4000) == [("a", 2, "head")]
    r.lpop(keys.tagged("a").mailbox)  # the head is done: a new head starts clean
    assert release(s, "a", "t4", now=NOW + 4000) == 1
    assert claim(s, ["a"], "t5", now=NOW + 4000) == [("a", 0, "next")]


def test_release_requeues_with_a_delay_forgets_an_empty_queue_and_refuses_a_stranger(r, s):
    k = queue(r, "a", "a1")
    claim(s, ["a"], "t1")
    assert release(s, "a", "someone-else") == 0
    assert release(s, "a", "t1", retry=700) == 1
    assert r.zscore(keys.READY, "a") == NOW + 700 and r.hget(k.claim, "token") is None
    claim(s, ["a"], "t2", now=NOW + 700)
    r.lpop(k.mailbox)
    assert release(s, "a", "t2", now=NOW + 700) == 1
    assert r.zscore(keys.READY, "a") is None and not r.exists(k.claim)


def test_renew_extends_what_is_still_ours_and_says_what_was_lost(r, s):
    queue(r, "a", "a1")
    queue(r, "b", "b1")
    claim(s, ["a", "b"], "t1")
    r.hset(keys.tagged("b").claim, "token", "t9")  # someone took b
    r.set("lock1", "t1", px=500)
    r.set("lock2", "t9", px=500)
    got = s.renew(keys=[keys.tagged("a").claim, keys.tagged("b").claim, "lock1", "lock2"],
                  args=[NOW + 9000, 30000, 2, "t1", "t1", "t1", "t1"])
    assert got == [1, 0, 1, 0]
    assert int(r.hget(keys.tagged("a").claim, "until")) == NOW + 9000 and r.pttl("lock1") > 1000


def test_unlock_frees_only_its_own_lock(r, s):
    r.set("lock", "mine")
    assert s.unlock(keys=["lock"], args=["theirs"]) == 0 and r.get("lock") == b"mine"
    assert s.unlock(keys=["lock"], args=["mine"]) == 1 and r.get("lock") is None


def test_open_locks_reads_the_state_and_counts_or_finds_it_busy(r, s):
    c = keys.conversation("phone:+1")
    r.set(c.state, '{"state":"menu"}')
    got = s.open(keys=[c.lock, c.state, c.rate(1)], args=["lane1", 30000, 3, 120])
    assert got[0] == 1 and got[1] == b'{"state":"menu"}' and got[2] == 3
    assert s.open(keys=[c.lock, c.state, c.rate(1)], args=["lane2", 30000, 1, 120]) == [0]
    assert int(r.get(c.rate(1))) == 3  # a busy open counts nothing
    fresh = keys.conversation("phone:+2")
    assert s.open(keys=[fresh.lock, fresh.state, fresh.rate(1)], args=["lane3", 30000, 1, 120])[:2] == [1, None]


# -- commit ------------------------------------------------------------------------------------------

def commit(s, r, *, token="t1", lock_token="l1", head="m1", state='{"s":1}', reply="", link="", outbound=(),
           moved_from="", counters=("turns:sms", 1)):
    k, c = keys.tagged("a"), keys.conversation("phone:+1")
    out_keys = [keys.tagged(t).outbox for t, _ in outbound] + [keys.tagged(t).outclaim for t, _ in outbound]
    return s.commit(keys=[k.claim, k.mailbox, c.state, keys.conversation(moved_from).state if moved_from else "",
                          c.lock, "", keys.STATS, keys.OUT_READY, keys.reply("m1") if reply else "",
                          keys.reply_ready("m1") if reply else "", k.link if link else "", *out_keys],
                    args=[token, lock_token, head, state, 600, reply, 60, link, 600, NOW, 1000, len(outbound),
                          *(x for pair in outbound for x in pair), *counters])


def test_commit_refuses_without_the_claim_or_the_lock_and_for_a_moved_head(r, s):
    queue(r, "a", "m1", "m2")
    claim(s, ["a"], "t1")
    r.set(keys.conversation("phone:+1").lock, "l1")
    assert commit(s, r, token="t2") == [0]
    assert commit(s, r, lock_token="l2") == [0]
    assert commit(s, r, head="m2") == [-1]
    assert r.llen(keys.tagged("a").mailbox) == 2 and not r.exists(keys.conversation("phone:+1").state)


def test_commit_pops_saves_replies_links_queues_and_counts_at_once(r, s):
    queue(r, "a", "m1", "m2")
    claim(s, ["a"], "t1")
    r.set(keys.conversation("phone:+1").lock, "l1")
    r.set(keys.conversation("id:sms:+1").state, "old")
    r.rpush(keys.tagged("busy").outbox, "waiting")  # someone else's send is under way there
    assert commit(s, r, reply='{"replies":[]}', link="+1", outbound=(("r1", "hello"), ("r1", "again"), ("busy", "x")),
                  moved_from="id:sms:+1") == [1, b"r1"]  # the empty outbox is claimed for the lane
    assert r.lrange(keys.tagged("a").mailbox, 0, -1) == [b"m2"]
    assert r.get(keys.conversation("phone:+1").state) == b'{"s":1}'
    assert not r.exists(keys.conversation("id:sms:+1").state)  # the conversation moved
    assert r.get(keys.reply("m1")) == b'{"replies":[]}' and r.lrange(keys.reply_ready("m1"), 0, -1) == [b"1"]
    assert r.get(keys.tagged("a").link) == b"+1"
    assert r.lrange(keys.tagged("r1").outbox, 0, -1) == [b"hello", b"again"]
    assert r.hget(keys.tagged("r1").outclaim, "token") == b"l1" and r.zscore(keys.OUT_READY, "r1") == NOW + 1000
    assert r.lrange(keys.tagged("busy").outbox, 0, -1) == [b"waiting", b"x"] and r.zscore(keys.OUT_READY, "busy") == NOW
    assert r.hget(keys.tagged("busy").outclaim, "token") is None
    assert r.hget(keys.STATS, "turns:sms") == b"1"
    assert int(r.hget(keys.tagged("a").claim, "until")) == NOW + 1000  # the commit renews the lease
    assert commit(s, r, head="m2", link="-", state="") == [1]  # '' deletes the state, '-' the link
    assert not r.exists(keys.conversation("phone:+1").state) and not r.exists(keys.tagged("a").link)


# -- park -----------------------------------------------------------------------------------------------

def park(s, token="t1", head="m1", kind="", payload="", target=""):
    k = keys.tagged("a")
    where = {"outbox": keys.tagged(target).outbox if target else "", "slot": keys.reply(target) if target else "",
             "": ""}[kind]
    ready = {"outbox": keys.OUT_READY, "slot": keys.reply_ready(target) if target else "", "": ""}[kind]
    extra = target if kind == "outbox" else ("60" if kind == "slot" else "")
    return s.park(keys=[k.claim, k.mailbox, keys.DEAD, keys.DEAD_INDEX, keys.STATS, where, ready],
                  args=[token, head, "dl1", '{"id":"dl1"}', 123.5, "dead_letters:inbound", kind, payload, extra, NOW])


def test_park_moves_the_head_to_the_dead_letters_and_apologises_once(r, s):
    queue(r, "a", "m1", "m2")
    claim(s, ["a"], "t1")
    assert park(s, token="t2") == 0
    assert park(s, head="m2") == -1
    assert park(s, kind="outbox", payload="sorry", target="a") == 1
    assert r.lrange(keys.tagged("a").mailbox, 0, -1) == [b"m2"]
    assert r.hget(keys.DEAD, "dl1") == b'{"id":"dl1"}' and r.zscore(keys.DEAD_INDEX, "dl1") == 123.5
    assert r.lrange(keys.tagged("a").outbox, 0, -1) == [b"sorry"] and r.zscore(keys.OUT_READY, "a") == NOW
    assert r.hget(keys.STATS, "dead_letters:inbound") == b"1"
    assert park(s, head="m2", kind="slot", payload='{"error":1}', target="m2") == 1
    assert r.get(keys.reply("m2")) == b'{"error":1}' and r.llen(keys.reply_ready("m2")) == 1


# -- advance ----------------------------------------------------------------------------------------------

def advance(s, token="t1", head="r1", new="", counter="sent:sms"):
    k = keys.tagged("o")
    return s.advance(keys=[k.outclaim, k.outbox, keys.STATS, keys.OUT_READY], args=[token, head, new, NOW + 500,
                                                                                    counter, "o"])


def test_advance_records_progress_pops_and_releases_an_emptied_outbox(r, s):
    k = keys.tagged("o")
    r.rpush(k.outbox, "r1", "r2")
    r.zadd(keys.OUT_READY, {"o": NOW})
    s.claim(keys=[keys.OUT_READY, k.outclaim, k.outbox], args=[NOW, 1000, "t1", "o"])
    assert advance(s, token="t2") == [0]
    assert advance(s, head="r2") == [-1]
    assert advance(s, new="r1+part1", counter="") == [1, b"r1+part1"]
    assert r.lindex(k.outbox, 0) == b"r1+part1"
    assert advance(s, head="r1+part1") == [1, b"r2"]
    assert advance(s, head="r2") == [1]  # empty: the lease is let go
    assert not r.exists(k.outclaim) and r.zscore(keys.OUT_READY, "o") is None
    assert r.hget(keys.STATS, "sent:sms") == b"2"


# -- requeue ------------------------------------------------------------------------------------------------

def requeue(s, now=NOW):
    k = keys.tagged("a")
    return s.requeue(keys=[keys.DEAD, keys.DEAD_INDEX, k.mailbox, k.claim, keys.READY, keys.STATS, "fails"],
                     args=["dl1", "m0", "a", now, "dead_letters_retried:inbound"])


def test_requeue_puts_a_dead_letter_at_the_head_once_and_waits_for_a_busy_queue(r, s):
    queue(r, "a", "m1")
    r.hset(keys.DEAD, "dl1", "{}")
    r.zadd(keys.DEAD_INDEX, {"dl1": 1})
    r.set("fails", 3)
    claim(s, ["a"], "t1")
    assert requeue(s) == 2  # a worker holds the mailbox: try again in a moment
    assert r.hexists(keys.DEAD, "dl1")
    release(s, "a", "t1")
    assert requeue(s) == 1
    assert r.lrange(keys.tagged("a").mailbox, 0, -1) == [b"m0", b"m1"]
    assert not r.hexists(keys.DEAD, "dl1") and r.zscore(keys.DEAD_INDEX, "dl1") is None
    assert r.zscore(keys.READY, "a") == NOW and not r.exists("fails")
    assert requeue(s) == 0  # once


def test_every_script_is_tested_here():
    source = open(__file__).read()
    for name in scripts.NAMES:
        assert f"s.{name}(" in source, name
