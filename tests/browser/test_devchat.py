"""The dev chat page (embedded default) in headless Chromium, with the in-process worker of
`make run`: it greets on load, keeps its history across a reload, shows order updates and an
operator's reply as they come, and its inspector shows each line's state and reading."""
from __future__ import annotations

import pytest

from bot.customers import handoff
from statemachine import prompts
from statemachine.prompts import ORDER_UPDATES
from tests.conftest import ARTIFACTS
from tests.support.operators import OP


@pytest.fixture
def worker(rt):
    from workers.run import InProcessWorker

    w = InProcessWorker(rt, poll=0.05).start()
    yield w
    w.stop()


def said(page) -> list[str]:
    return page.eval_on_selector_all("#log .msg", "nodes => nodes.map(n => n.textContent)")


def say(page, text: str, expect: str) -> None:
    before = page.locator("#log .msg.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_selector(f"#log .msg.bot >> nth={before}")
    page.wait_for_selector(f'#log .msg.bot:has-text("{expect}")')


def test_the_dev_chat_page(server, page, worker, rt, client):
    res = client.get("/")
    assert "<script>" not in res.get_data(as_text=True) and "script-src 'self'" in res.headers["Content-Security-Policy"]
    page.goto(server + "/")
    page.wait_for_selector('#log .msg.bot:has-text("Welcome to")')  # it greets on load
    page.check("#vouch")
    page.fill("#phone", "+14155550601")
    say(page, "hi", "What's your name?")
    say(page, "Dana", "delivery address")
    say(page, "4 Oak Road, Springfield", "1. Place an order")
    say(page, "1", "What would you like?")
    say(page, "2 kg of apples", "Added 2 kg")

    page.check("#inspect")  # each line's state and reading
    reading = page.locator("#log .reading").last
    assert reading.is_visible()
    page.wait_for_selector('#log .reading:has-text("items: 2 kg Apples")')
    text = reading.text_content()
    assert "state order" in text and "intent add_items" in text and "source offline" in text

    say(page, "done", "Shall I place it?")
    say(page, "yes", "is placed")
    lines = said(page)
    page.reload()  # the history stays
    page.wait_for_selector("body[data-restored]")
    assert said(page) == lines and page.is_checked("#inspect") and page.locator("#log .reading").count() >= 7
    assert page.is_checked("#vouch") and page.input_value("#phone") == "+14155550601"  # the same customer

    # the shop moves the order on: the update shows up on its own
    [order] = rt.store.orders.search(phone="+14155550601")
    assert client.post(f"/api/orders/{order['_id']}/status", json={"status": "preparing"}, headers=OP).status_code == 200
    update = ORDER_UPDATES["preparing"].format(number=order["number"])
    page.wait_for_selector(f'#log .msg.notice:has-text("{update}")', timeout=20_000)
    # a person takes over: their reply shows up too
    say(page, "talk to a person", "a person from the shop")
    hid = handoff.handoff_id("phone:+14155550601")  # operators address a waiting conversation by its opaque id
    res = client.post(f"/api/handoffs/{hid}/reply", json={"text": "Hi Dana, Sam here."}, headers=OP)
    assert res.status_code == 202
    page.wait_for_selector('#log .msg.notice:has-text("Hi Dana, Sam here.")', timeout=20_000)
    assert prompts.HANDOFF_STARTED in "\n".join(said(page))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "devchat.png"), full_page=True)
    assert page.errors == []
