"""Messages the shop sends first, through the pipeline in this process: a restock (API, import)
tells each waiting customer once, however often it is announced; one reminder per cart left behind,
however many sweepers; a rating request after delivery, stored and counted; quiet hours hold them
back; "stop reminders" stops them; a phone call cannot be reached."""
from __future__ import annotations

import threading
import time

from bot import outreach
from bot.outreach import carts, sending
from bot.pipeline import keys as pkeys
from statemachine import prompts
from tests.conftest import API_TOKEN
from tests.support.operators import OP, metric_values

WA = "+14155550401"
ANA = "+14155550402"
API = {"Authorization": f"Bearer {API_TOKEN}"}


def whatsapp(pipeline, text, who=WA):
    pipeline.send(text, channel="whatsapp", address=who, phone=who)
    pipeline.drain()
    pipeline.deliver()


def registered_on_whatsapp(pipeline, who=WA):
    for line in ("hi", "Wes", "3 Harbour Lane, Springfield"):
        whatsapp(pipeline, line, who)


def ana(pipeline, text):
    return pipeline.texts(text, user="ana", phone=ANA)


def notices(client, user="ana") -> list[str]:
    return [n["text"] for n in client.get(f"/api/notices?user_id={user}", headers=API).get_json()["notices"]]


def out_of_stock_and_asked(pipeline):
    for line in ("hi", "Ana", "1 Main Street, Springfield", "1"):
        ana(pipeline, line)
    assert "out of stock" in ana(pipeline, "2 jars of saffron")
    assert "I'll message you once Saffron threads is back" in ana(pipeline, "tell me when it's back")


# -- back in stock ------------------------------------------------------------------------------

def test_a_restock_through_the_api_tells_each_waiting_customer_once(client, pipeline, rt):
    out_of_stock_and_asked(pipeline)
    res = client.patch("/api/products/SAFFRON", json={"stock": 5}, headers=OP)
    assert res.status_code == 200 and res.get_json()["told_back_in_stock"] == 1
    pipeline.drain()
    [said] = notices(client)
    assert said.startswith("Good news: Saffron threads is back in stock")
    # more stock, zero and back again: they asked once, they hear once
    for stock in (9, 0, 4):
        assert client.patch("/api/products/SAFFRON", json={"stock": stock}, headers=OP).status_code == 200
    pipeline.drain()
    assert notices(client) == []
    [entry, *_] = client.get("/api/audit?action=product.update&limit=10", headers=OP).get_json()["entries"][::-1]
    assert entry["details"]["told_back_in_stock"] == 1


def test_a_restock_announced_twice_at_once_notifies_once(pipeline, rt, client):
    out_of_stock_and_asked(pipeline)
    rt.store.products.update("SAFFRON", stock=5)
    rt.catalog.bump()  # as every way stock comes back does (the API, the console, an import)
    gate, told = threading.Barrier(2), []

    def announce():
        gate.wait()
        told.append(outreach.announce_restock(rt, ["SAFFRON"]))

    threads = [threading.Thread(target=announce) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert sorted(told) == [0, 1]
    pipeline.drain()
    assert len(notices(client)) == 1


def test_putting_a_product_back_on_sale_is_a_restock_too(client, pipeline, rt):
    out_of_stock_and_asked(pipeline)
    assert client.patch("/api/products/SAFFRON", json={"stock": 3, "available": False}, headers=OP).get_json()[
        "told_back_in_stock"] == 0  # in stock, but off sale: not back yet
    assert "out of stock" in ana(pipeline, "a jar of saffron")  # the conversation sees it off sale
    assert client.patch("/api/products/SAFFRON", json={"available": True}, headers=OP).get_json()[
        "told_back_in_stock"] == 1


def test_a_restock_by_catalog_import_tells_them_too(pipeline, rt, monkeypatch, tmp_path, capsys):
    import json
    import types

    from bot import cli, runtime
    from bot import store as store_module

    out_of_stock_and_asked(pipeline)
    monkeypatch.setattr(store_module, "connect", lambda settings: rt.store)
    monkeypatch.setattr(runtime, "connect_redis", lambda settings: rt.redis)
    row = {"sku": "SAFFRON", "name": "Saffron threads", "unit": "jar", "price_cents": 899, "stock": 12}
    (tmp_path / "c.json").write_text(json.dumps([row]))
    assert cli.cmd_load_catalog(rt.settings, types.SimpleNamespace(file=str(tmp_path / "c.json"), replace=False)) == 0
    assert "1 waiting customers told" in capsys.readouterr().out
    pipeline.drain()
    assert rt.store.outreach.waiting("SAFFRON") == 0


def test_stop_reminders_stops_the_back_in_stock_message(client, pipeline):
    out_of_stock_and_asked(pipeline)
    assert ana(pipeline, "stop reminders") == prompts.REMINDERS_OFF
    client.patch("/api/products/SAFFRON", json={"stock": 5}, headers=OP)
    pipeline.drain()
    assert notices(client) == []


# -- a cart left behind -------------------------------------------------------------------------

def left_cart_on_whatsapp(pipeline, consent=True):
    registered_on_whatsapp(pipeline)
    if consent:
        whatsapp(pipeline, "start reminders")
    whatsapp(pipeline, "1")
    whatsapp(pipeline, "2 kg of apples and a dozen eggs")


def test_one_reminder_per_cart_however_many_sweepers(pipeline, rt, senders):
    left_cart_on_whatsapp(pipeline)
    later = time.time() + rt.settings.CART_REMINDER_MINUTES * 60 + 5
    assert carts.sweep(rt, time.time()) == 0  # not yet
    gate, sent = threading.Barrier(3), []

    def sweep():
        gate.wait()
        sent.append(carts.sweep(rt, later))

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert sorted(sent) == [0, 0, 1]
    pipeline.drain()
    pipeline.deliver()
    reminder = senders["whatsapp"].sent[-1]
    assert reminder.text == prompts.cart_reminder("2 items")
    assert reminder.template == "cart_reminder" and reminder.variables == {"1": "2 items"}  # outside the window
    assert carts.sweep(rt, later + 86400) == 0  # never again for this cart
    whatsapp(pipeline, "done")
    assert "Shall I place it?" in senders["whatsapp"].texts(WA)[-1]


def test_no_reminder_once_the_cart_became_an_order_or_without_consent_on_whatsapp(pipeline, rt, senders):
    left_cart_on_whatsapp(pipeline)
    whatsapp(pipeline, "done")
    whatsapp(pipeline, "yes")
    assert carts.sweep(rt, time.time() + 86400) == 0 and carts.waiting(rt) == 0
    left_cart_on_whatsapp(pipeline, consent=False)  # ... and whatsapp(start reminders) was not said again:
    whatsapp(pipeline, "stop reminders")  # the customer withdrew consent
    told = len(senders["whatsapp"].sent)
    assert carts.sweep(rt, time.time() + 86400) == 1  # the sweep offers it; the conversation declines
    pipeline.drain()
    pipeline.deliver()
    assert len(senders["whatsapp"].sent) == told
    assert rt.redis.hget("ol:stats", "outreach_silent:cart_reminder") == b"1"


# -- feedback after delivery --------------------------------------------------------------------

def delivered(client, pipeline, rt, asked="sent"):
    for line in ("hi", "Ana", "1 Main Street, Springfield", "1", "a dozen eggs", "done", "yes"):
        ana(pipeline, line)
    [order] = rt.store.orders.search(phone=ANA)
    for status in ("preparing", "out_for_delivery", "delivered"):
        res = client.post(f"/api/orders/{order['number']}/status", json={"status": status}, headers=OP)
        assert res.status_code == 200, res.get_json()
    assert res.get_json()["feedback_asked"] == asked
    pipeline.drain()
    return order


def test_delivered_asks_for_a_rating_stored_with_the_order_and_averaged(client, pipeline, rt):
    order = delivered(client, pipeline, rt)
    said = notices(client)
    assert said[-1] == prompts.ask_feedback(str(order["number"]))
    assert ana(pipeline, "4 - driver was lovely") == prompts.feedback_thanks(4)
    stored = rt.store.orders.get(order["_id"])["feedback"]
    assert stored["rating"] == 4 and stored["comment"] == "driver was lovely"
    s = client.get("/stats", headers=OP).get_json()
    assert s["feedback"] == {"ratings": 1, "average": 4.0, "by_rating": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    values = metric_values(client.get("/metrics").get_data(as_text=True))
    assert values[("orderline_feedback_rating_average", ())] == 4.0
    assert values[("orderline_feedback_ratings_total", (("rating", "4"),))] == 1
    row = client.get(f"/api/orders/{order['number']}", headers=OP).get_json()["order"]
    assert row["feedback"]["rating"] == 4
    dash = client.get("/api/dashboard", headers=OP).get_json()
    assert [o["rating"] for o in dash["orders"]] == [4]
    # asked once: a second "delivered" move is refused, and the request's id is accepted once
    assert outreach.ask_feedback(rt, rt.store.orders.get(order["_id"])) == sending.DUPLICATE


def test_quiet_hours_hold_a_rating_request_until_they_end(client, pipeline, rt):
    from datetime import datetime

    zone = rt.shop.current().zone  # quiet hours are the shop's local time
    start, end = (datetime.fromtimestamp(time.time() + d, zone) for d in (-3600, 7200))
    rt.settings.QUIET_HOURS = f"{start.hour:02d}:00-{end.hour:02d}:00"
    quiet = outreach.QuietHours.of(rt)
    assert quiet.active(time.time())
    order = delivered(client, pipeline, rt, asked="deferred")
    assert notices(client)[-1] != prompts.ask_feedback(str(order["number"]))  # not now
    assert sending.waiting(rt) == 1 and sending.run_due(rt) == 0  # still quiet
    assert sending.run_due(rt, quiet.ends(time.time()) + 1) == 1
    pipeline.drain()
    assert notices(client)[-1] == prompts.ask_feedback(str(order["number"]))
    assert sending.waiting(rt) == 0


def test_a_phone_call_cannot_be_reached_and_is_skipped(rt):
    job = sending.Job(id="feedback-x", kind="feedback_request", identity=f"voice:{ANA}", phone=ANA)
    assert sending.send(rt, job) == sending.UNREACHED
    assert rt.redis.hget("ol:stats", "outreach_skipped:feedback_request:no_channel") == b"1"


def test_the_shops_own_messages_do_not_open_whatsapps_window(rt):
    job = sending.Job(id="feedback-y", kind="feedback_request", identity=f"whatsapp:{WA}", phone=WA,
                   meta={"order_id": "o", "number": "1"})
    assert sending.send(rt, job) == sending.SENT
    assert rt.redis.get(pkeys.identity(f"whatsapp:{WA}").seen) is None
