"""The dashboard in headless Chromium (Debian's `chromium`, driven by Playwright with the system
browser): it loads, shows the figures a scripted burst produced through the pipeline, and its
buttons work (retry a failed message, move an order on, reply to a waiting customer).
Screenshots go to test-artifacts/ (gitignored). Skipped, with the reason, only when no browser
can be started (`make test` installs Debian's chromium when apt-get can)."""
from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, OPERATOR_TOKEN
from tests.support.operators import burst, burst_senders


@pytest.fixture
def senders(fake_redis):
    return burst_senders(fake_redis)


def tile(page, name: str) -> str:
    return page.get_attribute(f'[data-tile="{name}"]', "data-value")


def test_dashboard_shows_the_burst_and_its_buttons_work(server, page, pipeline, senders, rt):
    expected = burst(pipeline)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/dashboard")
    assert page.is_visible("#login-form") and not page.is_visible("#board")
    page.fill("#token", "wrong-token-0123456789")
    page.click("#login-form button")
    page.wait_for_selector("#login-error:has-text('refused')")
    page.fill("#token", OPERATOR_TOKEN)
    page.click("#login-form button")
    page.wait_for_selector("body[data-loaded]")
    assert OPERATOR_TOKEN not in page.url
    assert page.evaluate("sessionStorage.getItem('orderline.operatorToken')") == OPERATOR_TOKEN
    page.errors.clear()  # the refused token's 401 was expected

    # the live tiles show what the burst produced
    assert tile(page, "messages_in") == str(sum(expected["sent"].values()))
    assert tile(page, "orders_today") == "2" and tile(page, "conversations") == "5"
    assert tile(page, "handoffs") == "1" and tile(page, "dead_letters") == "1" and tile(page, "duplicates") == "1"
    assert "whatsapp 5" in page.text_content('[data-tile="messages_in"] .sub')
    assert page.locator("#orders tbody tr").count() == 2
    assert page.locator("#latency tbody tr").count() == 4
    assert page.locator("#chart-messages svg rect").count() >= 1 and page.locator("#chart-orders svg rect").count() >= 1
    handoff = page.locator(".handoff")
    assert handoff.count() == 1 and "Cleo" in handoff.text_content() and "my order was wrong" in handoff.text_content()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # retry the failed message: it leaves the list and the channel delivers it this time
    page.click('#dead-letters button[data-action="retry"]')
    page.wait_for_selector("#dead-letters tbody tr", state="detached")
    assert page.text_content("#dead-count") == "0"
    pipeline.deliver()
    assert [m.address for m in senders["telegram"].sent].count("blocked-chat") == 1

    # move the newest order on: the customer (console, synchronous) finds the notice
    order_id = page.get_attribute("#orders tbody tr:first-child", "data-order")
    page.click('#orders tbody tr:first-child button[data-status="preparing"]')
    page.wait_for_selector(f'#orders tr[data-order="{order_id}"] .status:has-text("preparing")')
    assert rt.store.orders.get(order_id)["status"] == "preparing"

    # reply to the waiting customer, then hand them back
    page.fill(".handoff textarea", "Hi Cleo, Sam from the shop here.")
    page.click('.handoff button[data-action="reply"]')
    page.wait_for_selector("#status:has-text('Done')")
    pipeline.drain()
    pipeline.deliver()
    assert senders["whatsapp"].texts("+14155550103")[-1] == "Hi Cleo, Sam from the shop here."
    page.click('.handoff button[data-action="handback"]')
    page.wait_for_selector("#status:has-text('Hand back')")
    pipeline.drain()
    page.reload()  # the tab keeps its session: no new sign-in
    page.wait_for_selector("body[data-loaded]")
    assert page.locator("#handoffs .handoff").count() == 0 and tile(page, "handoffs") == "0"
    page.screenshot(path=str(ARTIFACTS / "dashboard-after-actions.png"), full_page=True)
    assert page.errors == []
