"""Privacy: export everything held about a customer, erase it (the customer's own 'delete my data'),
message retention scheduled once with RQ, and the audit log of who did it."""
from __future__ import annotations

import json
import time

from rq import Queue
from rq.registry import ScheduledJobRegistry

from bot.common import redis_keys
from tests.support.operators import OP
from tests.support.redis_traces import everything_in_redis
from workers import retention

WA, NAME, STREET = "+14155550401", "Edna Krabappel", "742 Evergreen Terrace, Springfield"


def customer_with_everything(pipeline, client):
    """Registered on WhatsApp and the API, an order, a status update, waiting for a person."""
    for line in ("hi", NAME, STREET, "1", "a dozen eggs", "done", "yes"):
        pipeline.send(line, channel="whatsapp", address=WA, phone=WA)
        pipeline.drain()
    pipeline.say("hello", user="edna-app", phone=WA)
    [order] = pipeline.rt.store.orders.search(phone=WA)
    client.post(f"/api/orders/{order['_id']}/status", json={"status": "preparing"}, headers=OP)
    pipeline.send("talk to a person", channel="whatsapp", address=WA, phone=WA)
    pipeline.drain()
    pipeline.deliver()
    return order


def everything_in_mongo(db) -> dict[str, str]:
    return {name: json.dumps(list(db[name].find()), default=str) for name in db.list_collection_names()}


def test_export_holds_everything_and_delete_leaves_only_anonymised_orders(client, pipeline, rt):
    order = customer_with_everything(pipeline, client)
    res = client.get(f"/api/customers/{WA}/export", headers=OP)
    assert res.status_code == 200 and "attachment" in res.headers["Content-Disposition"]
    data = res.get_json()
    assert data["customer"]["name"] == NAME and data["customer"]["address"] == STREET
    assert [o["_id"] for o in data["orders"]] == [order["_id"]]
    texts = [m["text"] for m in data["messages"]]
    assert texts[0] == "hi" and "hello" in texts and any(t.startswith("Update: order #") for t in texts)
    assert set(data["channel_identities"]) == {f"whatsapp:{WA}", "api:edna-app"}
    assert data["conversation_state"][f"phone:{WA}"]["state"] == "handoff"
    assert data["waiting_for_a_person"][0]["name"] == NAME
    assert data["conversation_records"][0]["key"] == f"phone:{WA}"

    res = client.delete(f"/api/customers/{WA}", headers=OP)
    assert res.status_code == 200
    erased = res.get_json()["erased"]
    assert erased["customer"] and erased["messages"] == len(texts) and erased["orders_anonymised"] == 1

    mongo = everything_in_mongo(rt.store.db)
    for name, dump in mongo.items():
        for trace in (WA, WA[1:], NAME, "Edna", STREET, "edna-app"):
            assert trace not in dump, (name, trace)
    kept = rt.store.orders.get(order["_id"])
    assert kept["anonymised"] and kept["total_cents"] == order["total_cents"] and kept["lines"] == order["lines"]
    in_redis = everything_in_redis(rt.redis)
    for trace in (WA[1:], NAME, STREET, "edna-app"):
        assert trace not in in_redis, trace
    assert client.get(f"/api/customers/{WA}/export", headers=OP).status_code == 404
    assert client.get(f"/api/customers/{WA}/history", headers=OP).status_code == 404
    assert client.delete(f"/api/customers/{WA}", headers=OP).status_code == 404
    assert client.get("/stats", headers=OP).get_json()["customers"]["erased"] == 1
    audit = client.get("/api/audit", headers=OP).get_json()["entries"]
    assert [e["action"] for e in audit[:2]] == ["customer.delete", "customer.export"]
    assert audit[0]["target"] == "customer:********0401"

    # the customer may come back, and starts fresh
    pipeline.send("hi", channel="whatsapp", address=WA, phone=WA)
    pipeline.drain()
    assert pipeline.conversation(f"phone:{WA}")["state"] == "register"


def test_history_shows_the_conversation_newest_first(client, pipeline):
    for line in ("hi", NAME, STREET):
        pipeline.say(line, user="edna-app", phone=WA)
    res = client.get(f"/api/customers/{WA}/history?limit=3", headers=OP).get_json()
    assert res["customer"]["name"] == NAME
    assert [(m["direction"], m["text"][:12]) for m in res["messages"]] == [
        ("out", "You're all s"), ("in", STREET[:12]), ("out", "Thanks, Edna")]
    assert client.get("/api/customers/415/history", headers=OP).status_code == 400


def test_erasure_waits_for_a_turn_in_progress(client, pipeline, rt):
    for line in ("hi", NAME, STREET):
        pipeline.say(line, user="edna-app", phone=WA)
    assert rt.mailboxes.lock(f"phone:{WA}", "a-worker-mid-turn")
    from bot.customers import privacy

    try:
        privacy.erase(rt, WA, wait_seconds=0.2)
        raise AssertionError("erased under a worker's feet")
    except privacy.Busy:
        pass
    assert rt.store.customers.find_by_phone(WA) is not None
    rt.mailboxes.unlock(f"phone:{WA}", "a-worker-mid-turn")
    assert client.delete(f"/api/customers/{WA}", headers=OP).status_code == 200


def test_retention_deletes_only_messages_older_than_retention_days(pipeline, rt):
    for line in ("hi", NAME, STREET):
        pipeline.say(line, user="edna-app", phone=WA)
    old = time.time() - (rt.settings.RETENTION_DAYS * 86400 + 60)
    rt.store.db.messages.update_many({"text": {"$in": ["hi", NAME]}}, {"$set": {"at": old}})
    assert retention.purge(rt)["deleted"] == 2
    assert sorted(m["text"][:6] for m in rt.store.messages.for_customer(WA, limit=0)) == [
        "742 Ev", "Hi! We", "Thanks", "You're"]
    assert int(rt.redis.hget(redis_keys.STATS, "messages_expired")) == 2


def test_retention_is_scheduled_once_however_many_ask(rt):
    now = time.time()
    scheduled = [retention.schedule(rt.redis, after=now) for _ in range(5)]
    assert len([s for s in scheduled if s]) == 1
    registry = ScheduledJobRegistry(queue=Queue("maintenance", connection=rt.redis))
    assert registry.get_job_ids() == [scheduled[0]]
    # even if the guard is lost (Redis restarted without it), asking again reuses that day's one entry
    rt.redis.delete(f"{redis_keys.RETENTION_SCHEDULED}:{scheduled[0]}")
    assert retention.schedule(rt.redis, after=now) == scheduled[0]
    assert registry.get_job_ids() == [scheduled[0]]
    # the run schedules the next day's, and only that
    tomorrow = retention.schedule(rt.redis, after=retention.next_run(now).timestamp() + 60)
    assert tomorrow != scheduled[0] and sorted(registry.get_job_ids()) == sorted([scheduled[0], tomorrow])
