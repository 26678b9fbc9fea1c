"""The dev chat page's server side (embedded default only): a strict CSP with no inline script,
and the inspector's reading of a line, only for the user who wrote it."""
from __future__ import annotations

from tests.conftest import API_TOKEN

API = {"Authorization": f"Bearer {API_TOKEN}"}


def test_the_page_has_no_inline_script_and_a_strict_csp(client):
    res = client.get("/")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "<script>" not in html and "<style>" not in html
    assert "script-src 'self'" in res.headers["Content-Security-Policy"]
    js = client.get("/dev/static/devchat.js").get_data(as_text=True)
    assert "innerHTML" not in js and "/api/notices" in js and "localStorage" in js


def test_the_inspector_reads_a_line_for_its_own_user_only(client, pipeline):
    pipeline.say("hi", user="ida", phone="+14155550701")
    reply = pipeline.say("Ida", user="ida", phone="+14155550701")
    got = client.get(f"/dev/reading/{reply['message_id']}?user_id=ida", headers=API)
    assert got.status_code == 200
    assert got.get_json()["state"] == "register" and got.get_json()["source"] == "offline"
    assert client.get(f"/dev/reading/{reply['message_id']}?user_id=someone", headers=API).status_code == 404
    assert client.get(f"/dev/reading/{reply['message_id']}?user_id=ida").status_code == 401


def test_the_page_works_when_only_named_integrator_tokens_are_set(fake_redis, store, senders):
    """A developer who tries named tokens in the embedded default still gets a working page: it is
    given its own generated token (never one of the named ones, which belong to integrators)."""
    from bot.app import create_app
    from bot.config import load_settings
    from bot.runtime import build

    named = "appa-token-0123456789abcd"
    settings = load_settings({"API_TOKENS": f"appa={named}"})
    app = create_app(build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True))
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert settings.API_TOKEN and settings.API_TOKEN in html and named not in html
    for token in (settings.API_TOKEN, named):
        res = client.post("/api/chat", json={"user_id": "dev", "message": "hi"},
                          headers={"Authorization": f"Bearer {token}"})
        assert res.status_code in (200, 202), res.get_json()
