"""The dashboard tells an operator when the model API refuses Orderline's requests (a bad key, a retired
model), with what the API said, and what the model costs per order."""
from __future__ import annotations

from bot.common import redis_keys
from bot.common.errors import ModelConfigError
from bot.nlu.model_counters import ModelStats
from tests.browser.test_dashboard import tile
from tests.conftest import OPERATOR_TOKEN


def test_the_dashboard_shows_refused_model_requests_with_the_apis_message(server, page, rt):
    for name, n in (("nlu_calls", 5), ("translate_calls", 1), ("orders_placed", 2)):
        rt.redis.hincrby(redis_keys.STATS, name, n)
    said = "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent."
    ModelStats(rt.redis).config_error(ModelConfigError(404, said, "NOT_FOUND"), "gemini-2.0-flash")
    page.goto(f"{server}/dashboard")
    page.fill("#token", OPERATOR_TOKEN)
    page.click("#login-form button")
    page.wait_for_selector("body[data-loaded]")
    assert tile(page, "nlu") == "6" and "per order 3" in page.text_content('[data-tile="nlu"] .sub')
    refused = page.locator('[data-tile="model_config"]')
    assert tile(page, "model_config") == "1" and "alert" in refused.get_attribute("class")
    assert "404 for gemini-2.0-flash" in refused.text_content() and said in refused.text_content()
    assert not page.errors


def test_no_refusal_no_tile(server, page, rt):
    rt.redis.hincrby(redis_keys.STATS, "nlu_calls", 1)
    page.goto(f"{server}/dashboard")
    page.fill("#token", OPERATOR_TOKEN)
    page.click("#login-form button")
    page.wait_for_selector("body[data-loaded]")
    assert page.locator('[data-tile="model_config"]').count() == 0 and tile(page, "nlu") == "1"
    assert "per order –" in page.text_content('[data-tile="nlu"] .sub')
