"""Scenario steps for the messages the shop sends first (tests/support/scenarios.py hands them here).

    - shop_does: {stock: {SAFFRON: 5}}      # through the operator API, as the console does
    - shop_does: {available: {EGGS: false}}
    - shop_does: {move: delivered}          # the speaker's newest order (earlier moves are made first)
    - sweep: carts                          # the maintenance sweep, CART_REMINDER_MINUTES (+1 s) from now
    - sweep: outreach                       # ... and the deferred messages, at the end of quiet hours
    - window: {closed_hours: 25}            # the speaker last wrote on WhatsApp that long ago
    expect (what the speaker's channel delivered since the step began, from the fake providers):
      sent: ["Good news"]                   # each part in some message (text, or a template as rendered)
      sent_count: 1
      template: order_update                # the last message went as that purpose's WhatsApp template
      nothing_sent: true                    # (waits a moment to be sure)

A scenario's `settings: {QUIET_HOURS: now}` applies to this process (the web side, and the sweeps
these steps run): `now` is a window from an hour ago to two hours ahead in the shop's time.
"""
from __future__ import annotations

import time
from datetime import datetime

from bot.pipeline import keys as pkeys

FLOW = ("preparing", "out_for_delivery", "delivered")


def handles(step: dict) -> bool:
    return any(k in step for k in ("shop_does", "sweep", "window"))


def settings_for(live, spec: dict | None) -> dict:
    """Apply a scenario's settings to this process; returns what to put back."""
    saved = {}
    for name, value in (spec or {}).items():
        saved[name] = getattr(live.rt.settings, name)
        if name == "QUIET_HOURS" and value == "now":
            zone = live.rt.shop.current().zone
            start, end = (datetime.fromtimestamp(time.time() + d, zone) for d in (-3600, 7200))
            value = f"{start.hour:02d}:00-{end.hour:02d}:00"
        setattr(live.rt.settings, name, value)
    return saved


def restore(live, saved: dict) -> None:
    for name, value in saved.items():
        setattr(live.rt.settings, name, value)


def identity(who, channel: str) -> str:
    if channel == "telegram":
        return f"telegram:{who.chat_id}"
    if channel == "api":
        return f"api:{who.user}"
    return f"{channel}:{who.phone}"


def delivered(live, who, channel: str) -> list[dict]:
    """What the speaker's channel shows: [{"text", "template"}], oldest first."""
    if channel in ("whatsapp", "sms"):
        to = f"whatsapp:{who.phone}" if channel == "whatsapp" else who.phone
        return [{"text": m["rendered"], "template": m.get("ContentSid"), "status": m["status"]}
                for m in live.twilio.messages(to)]
    if channel == "telegram":
        return [{"text": m["text"], "template": None, "status": "delivered"} for m in live.telegram.sent(who.chat_id)]
    raise ValueError(f"no channel messages to read for {channel!r} (an api customer reads `notices:`)")


def play(live, who, step: dict, channel: str, where: str) -> None:
    """One step and its checks."""
    done = run(live, who, step, channel, where)
    check(live, who, channel, done, step.get("expect") or {}, where)


def run(live, who, step: dict, channel: str, where: str) -> dict:
    """Perform the step; returns what the speaker's channel delivered meanwhile (for `expect`)."""
    before = len(delivered(live, who, channel)) if channel != "api" else 0
    if "shop_does" in step:
        _shop_does(live, who, step["shop_does"], where)
    elif "sweep" in step:
        _sweep(live, step["sweep"])
    elif "window" in step:
        _window(live, who, step["window"]["closed_hours"])
    return {"before": before}


def check(live, who, channel: str, done: dict, expect: dict, where: str) -> None:
    wanted = expect.get("sent", [])
    count = expect.get("sent_count", len(wanted) if wanted else None)
    if not (wanted or count or expect.get("nothing_sent") or "template" in expect):
        return
    new = _settle(live, who, channel, done["before"], count or 0, where)
    said = "\n".join(m["text"] for m in new)
    for part in wanted:
        assert part in said, f"{where}: {part!r} not in what the channel delivered:\n{said}"
    if expect.get("nothing_sent"):
        assert new == [], f"{where}: expected nothing sent, got {new}"
    if count is not None:
        assert len(new) == count, f"{where}: {len(new)} messages delivered, expected {count}: {new}"
    if "template" in expect:
        from tests.support import webhooks as wh

        sid = getattr(wh, "TEMPLATE_" + expect["template"].upper())
        assert new and new[-1]["template"] == sid, f"{where}: not sent as the {expect['template']} template: {new}"
    assert all(m["status"] == "delivered" for m in new), f"{where}: not all delivered: {new}"


def _settle(live, who, channel: str, before: int, count: int, where: str, timeout: float = 20) -> list[dict]:
    """Until the pipeline is idle and at least `count` new messages arrived (then a moment more)."""
    deadline = time.monotonic() + timeout
    mailbox = pkeys.identity(identity(who, channel)).mailbox
    while time.monotonic() < deadline:
        idle = not live.rt.redis.llen(mailbox) and not live.rt.outbox.pending()
        if idle and len(delivered(live, who, channel)) - before >= count:
            time.sleep(0.5)  # anything more on its way would show now
            if not live.rt.redis.llen(mailbox) and not live.rt.outbox.pending():
                return delivered(live, who, channel)[before:]
        time.sleep(0.05)
    raise AssertionError(f"{where}: the channel did not settle; delivered: {delivered(live, who, channel)[before:]}")


def _operator_headers() -> dict:
    from tests.conftest import OPERATOR_TOKEN

    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _shop_does(live, who, action: dict, where: str) -> None:
    op = _operator_headers()
    for sku, stock in (action.get("stock") or {}).items():
        res = live.client.patch(f"/api/products/{sku}", json={"stock": stock}, headers=op)
        assert res.status_code == 200, f"{where}: {res.get_json()}"
    for sku, on in (action.get("available") or {}).items():
        res = live.client.patch(f"/api/products/{sku}", json={"available": on}, headers=op)
        assert res.status_code == 200, f"{where}: {res.get_json()}"
    if "move" in action:
        [order] = live.rt.store.orders.find({"phone": who.phone, "status": {"$nin": ["failed", "pending"]}}, limit=1)
        target = action["move"]
        for status in FLOW[FLOW.index(order["status"]) + 1 if order["status"] in FLOW else 0:FLOW.index(target) + 1]:
            res = live.client.post(f"/api/orders/{order['number']}/status", json={"status": status}, headers=op)
            assert res.status_code == 200, f"{where}: {res.get_json()}"


def _sweep(live, what: str) -> None:
    from bot.outreach import carts, sending

    if what == "carts":
        carts.sweep(live.rt, time.time() + live.rt.settings.CART_REMINDER_MINUTES * 60 + 1)
    elif what == "outreach":
        from bot.outreach import QuietHours

        quiet = QuietHours.of(live.rt)
        at = quiet.ends(time.time()) + 1 if quiet else time.time()
        saved = settings_for(live, {"QUIET_HOURS": "off"})  # the sweep runs after quiet hours ended
        try:
            sending.run_due(live.rt, at)
        finally:
            restore(live, saved)
    else:
        raise ValueError(f"sweep: {what!r}")


def _window(live, who, hours: float) -> None:
    """The customer last wrote on WhatsApp `hours` ago: as ingress recorded it, and as Twilio knows it."""
    at = time.time() - hours * 3600
    live.rt.redis.set(pkeys.identity(f"whatsapp:{who.phone}").seen, int(at * 1000), keepttl=True)
    live.twilio.wrote(f"whatsapp:{who.phone}", at)


