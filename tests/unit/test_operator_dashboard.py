"""GET /dashboard (the page shell: no data, no token, strict CSP) and GET /api/dashboard (its data)."""
from __future__ import annotations

import pytest

from tests.support.operators import OP, burst, burst_senders


@pytest.fixture
def senders(fake_redis):
    return burst_senders(fake_redis)


def test_the_page_is_a_shell_that_asks_for_the_token(client, rt):
    res = client.get("/dashboard")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and 'id="login-form"' in html and 'type="password"' in html
    assert rt.settings.OPERATOR_TOKEN not in html and rt.settings.API_TOKEN not in html
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in html  # no inline script: the CSP would block it anyway
    scripts = {name: client.get(f"/dashboard/static/{name}") for name in
               ("common.js", "overview.js", "orders.js", "products.js", "dashboard.js")}
    assert all(js.status_code == 200 and f"{name}" in html for name, js in scripts.items())
    assert "sessionStorage" in scripts["common.js"].get_data(as_text=True)
    for js in scripts.values():  # customer text only ever goes in as text
        assert ".innerHTML" not in js.get_data(as_text=True) and "insertAdjacentHTML" not in js.get_data(as_text=True)


def test_dashboard_data_has_the_figures_orders_handoffs_and_failures(client, pipeline, rt):
    expected = burst(pipeline)
    assert client.get("/api/dashboard").status_code == 401
    data = client.get("/api/dashboard", headers=OP).get_json()
    assert data["stats"]["messages"]["in"] == dict(expected["sent"]) and "counters" not in data["stats"]
    assert [o["status"] for o in data["orders"]] == ["confirmed", "confirmed"]
    assert data["orders"][0]["next"] == ["preparing", "out_for_delivery", "delivered", "cancelled"]
    assert data["orders"][0]["phone"].endswith("0102") and "+1415" not in data["orders"][0]["phone"]
    [waiting] = data["handoffs"]
    assert waiting["name"] == "Cleo" and waiting["messages"][-1]["text"] == "my order was wrong"
    [dead] = data["dead_letters"]
    assert dead["channel"] == "telegram" and dead["kind"] == "outbound"
    minutes = data["series"]["minutes"]
    assert len(minutes) == 60 and len(data["series"]["hours"]) == 24
    assert sum(sum(p["in"].values()) for p in minutes) == sum(expected["sent"].values())
    assert sum(p["orders"] for p in minutes) == 2
    assert sum(sum(p["out"].values()) for p in minutes) == sum(data["stats"]["messages"]["out"].values())
