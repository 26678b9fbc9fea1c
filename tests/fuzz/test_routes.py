"""Fuzz every route of the app (hypothesis): arbitrary paths, query strings, headers and bodies,
with and without valid tokens. Nothing answers 5xx; a refused request queues nothing.

The routes come from the app's own URL map, so a new route is fuzzed without touching this file.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.pipeline import keys as pkeys
from tests.conftest import API_TOKEN, OPERATOR_TOKEN

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12)
chat_like = st.fixed_dictionaries({}, optional={
    "user_id": st.one_of(st.text(max_size=140), st.integers(), st.none()),
    "message": st.one_of(st.text(max_size=5000), st.integers(), st.lists(st.text())),
    "phone": st.one_of(st.text(max_size=20), st.from_regex(r"\+[1-9]\d{6,14}", fullmatch=True)),
    "message_id": st.text(max_size=140),
    "status": st.text(max_size=20), "text": st.text(max_size=300),
    "price_cents": st.one_of(st.integers(), st.floats(), st.text(max_size=5)),
    "stock": st.one_of(st.integers(), st.floats(), st.text(max_size=5)),
})
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    chat_like.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
auth = st.sampled_from([None, "Bearer " + API_TOKEN, "Bearer " + OPERATOR_TOKEN, "Bearer nope", "Basic x", ""])
content_types = st.sampled_from([None, "application/json", "application/x-www-form-urlencoded", "text/plain"])
segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"),
                  min_size=1, max_size=30)


def routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.rule, method))
    return out


def fill(rule: str, values: list[str]) -> str:
    it = iter(values)
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", lambda m: next(it, "x"), rule)


@pytest.fixture
def fuzz_client(app, settings):
    settings.CHAT_WAIT_SECONDS = 0.01  # no worker runs here: valid chats answer 202 at once
    return app.test_client()


def queued(rt) -> int:
    return int(rt.redis.zcard(pkeys.READY))


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_route_answers_5xx_and_refusals_queue_nothing(fuzz_client, rt, data):
    app = fuzz_client.application
    rule, method = data.draw(st.sampled_from(routes(app)), label="route")
    path = fill(rule, data.draw(st.lists(segment, min_size=3, max_size=3), label="params"))
    query = data.draw(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3), label="query")
    headers = {}
    token = data.draw(auth, label="auth")
    if token is not None:
        headers["Authorization"] = token
    ctype = data.draw(content_types, label="content-type")
    if ctype:
        headers["Content-Type"] = ctype
    for name in ("X-Telegram-Bot-Api-Secret-Token", "X-Twilio-Signature"):
        if data.draw(st.booleans(), label=name):
            headers[name] = data.draw(st.text(max_size=60).filter(lambda t: "\n" not in t and "\r" not in t))
    body = data.draw(bodies, label="body") if method in ("POST", "PUT", "PATCH", "DELETE") else None
    before = queued(rt)
    res = fuzz_client.open(path, method=method, query_string=query, headers=headers, data=body)
    assert res.status_code < 500, (method, path, res.status_code, res.get_data()[:300])
    if res.status_code >= 400:
        assert queued(rt) == before, (method, path, res.status_code)
        if res.mimetype == "application/json":
            assert "error" in res.get_json()


def test_a_body_over_the_limit_is_413_on_every_post_route(fuzz_client, rt):
    big = b"{" + b" " * (rt.settings.MAX_BODY_BYTES + 10) + b"}"
    for rule, method in routes(fuzz_client.application):
        if method != "POST":
            continue
        res = fuzz_client.open(fill(rule, ["x", "x", "x"]), method="POST", data=big,
                               headers={"Content-Type": "application/json", "Authorization": "Bearer " + API_TOKEN})
        assert res.status_code == 413 and "larger than" in res.get_json()["error"], (rule, res.status_code)
        assert queued(rt) == 0
