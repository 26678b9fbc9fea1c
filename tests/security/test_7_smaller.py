"""Item 7, the smaller findings: crafted webhooks are refused (4xx, never a 500, nothing queued);
`bot dev` prints only tokens it invented; /api/chat's poll URL is encoded and says when a reply
has expired; SMS never invites an opt-out word; Twilio's Advanced Opt-Out answers alone."""
from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.pipeline import keys as pkeys
from statemachine import prompts
from tests.conftest import API_TOKEN, OPERATOR_TOKEN, ROOT
from tests.security.conftest import API
from tests.support import webhooks as wh
from tests.support.pipeline import Pipeline

TWILIO_ROUTES = ("/webhooks/twilio/messaging", "/webhooks/twilio/status", "/webhooks/twilio/voice",
                 "/webhooks/twilio/voice/turn", "/webhooks/twilio/voice/wait", "/webhooks/twilio/voice/status")


def post_raw(client, path: str, query: str, body: bytes, headers: dict):
    return client.post(path + (f"?{query}" if query else ""), data=body, headers=headers,
                       base_url="http://orderline-web:8000")


@pytest.mark.parametrize("query", ["xbodySHA256=1", "bodySHA256=", "bodySHA256=1&bodySHA256=2", "a=%ff%fe",
                                   "bodySHA256=%ff", "n=1&xbodySHA256=1"])
@pytest.mark.parametrize("body, ctype", [(b"Body=hi&From=%2B14155550707", "application/x-www-form-urlencoded"),
                                         (b'{"Body": "hi"}', "application/json"), (b"\xff\xfe\x00", "text/plain")])
@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_crafted_twilio_requests_are_403_and_queue_nothing(client, shop, path, query, body, ctype):
    for signature in ("bogus", "é-not-ascii", wh.sign(wh.PUBLIC_BASE_URL + path, {})):
        res = post_raw(client, path, query, body, {"Content-Type": ctype, "X-Twilio-Signature": signature})
        assert res.status_code == 403 and res.get_json()["error"], (path, query, signature)
    res = post_raw(client, path, query, body, {"Content-Type": ctype, "X-Twilio-Signature": "x",
                                               "X-Twilio-Webhooks-Signature-Settings": "alg=\x00"})
    assert res.status_code == 403
    assert wh.nothing_queued(shop)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60).map(lambda t: quote(t, safe="=&%")) | st.just("bodySHA256=x"),
       body=st.binary(max_size=200), signature=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255),
                                                       min_size=1, max_size=40))
def test_no_twilio_request_an_attacker_can_craft_is_a_500(client, shop, query, body, signature):
    for path in ("/webhooks/twilio/messaging", "/webhooks/twilio/voice"):
        res = post_raw(client, path, query, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                  "X-Twilio-Signature": signature})
        assert res.status_code == 403
    assert wh.nothing_queued(shop)


@pytest.mark.parametrize("message", [
    {"text": 5}, {"text": ["hi"]}, {"text": {"a": 1}}, {"text": True}, {"text": "hi \ud800 there"},
    {"text": "hi", "from": {"id": 1, "is_bot": False, "first_name": "\udfff"}},
    {"contact": "+14155550707"}, {"sticker": "x"}, {"chat": "x"},
])
def test_malformed_telegram_updates_are_400_and_queue_nothing(client, shop, message):
    update = wh.tg_message(1, **({"text": "x"} if "text" not in message else {}))
    update["message"].update(message)
    if "from" not in message:
        update["message"]["from"] = wh.tg_user(1)
    res = client.post("/webhooks/telegram", json=update, headers=wh.tg_headers())
    assert res.status_code == 400 and "Telegram Update" in res.get_json()["error"]
    assert wh.nothing_queued(shop)


# -- bot dev ----------------------------------------------------------------------------------------

def _dev_banner(extra_env: dict) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "MONGO_", "API_", "OPERATOR_",
                                                                    "TWILIO_", "TELEGRAM_"))}
    env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", **extra_env)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "dev", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, deadline = [], time.monotonic() + 60
    try:
        for line in proc.stdout:
            out.append(line)
            if "Ctrl-C stops" in line or time.monotonic() > deadline:
                break
    finally:
        proc.terminate()
        proc.wait(10)
    return "".join(out)


def test_bot_dev_prints_only_the_tokens_it_invented():
    mine = _dev_banner({"API_TOKEN": API_TOKEN, "OPERATOR_TOKEN": OPERATOR_TOKEN})
    assert "Ctrl-C stops" in mine and API_TOKEN not in mine and OPERATOR_TOKEN not in mine
    assert "not printed" in mine and "Bearer $API_TOKEN" in mine
    invented = _dev_banner({})
    assert re.search(r"API token:\s+dev-\S+", invented) and re.search(r"Operator token:\s+op-\S+", invented)


# -- /api/chat's poll URL -----------------------------------------------------------------------------

@pytest.mark.parametrize("shop_env", [{"CHAT_WAIT_SECONDS": "0.05"}])
def test_the_poll_url_is_encoded_and_an_expired_reply_says_so(client, shop, shop_env):
    user = "+14155550777"  # a user id that is a phone number: '+' must survive the query string
    res = client.post("/api/chat", json={"user_id": user, "message": "hi"}, headers=API)
    assert res.status_code == 202
    poll = res.get_json()["poll"]
    assert f"user_id={quote(user, safe='')}" in poll and "+" not in poll
    assert client.get(poll, headers=API).get_json()["status"] == "processing"  # waiting in its mailbox
    Pipeline(shop).drain()
    answered = client.get(poll, headers=API)
    assert answered.status_code == 200 and "phone number" in " ".join(answered.get_json()["replies"])
    shop.redis.delete(pkeys.reply(res.get_json()["message_id"]))  # an hour later: the reply's slot is gone
    expired = client.get(poll, headers=API)
    assert expired.status_code == 410 and expired.get_json()["status"] == "expired"
    assert "no longer kept" in expired.get_json()["error"]
    assert client.get(f"/api/chat/{'0' * 32}?user_id=x", headers=API).status_code == 404


# -- SMS wording and opt-outs ----------------------------------------------------------------------

OPT_OUT_WORDS = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout")  # Twilio's defaults


def test_no_sentence_invites_a_lone_opt_out_word():
    texts = [v for v in vars(prompts).values() if isinstance(v, str)]
    texts += [f(*["x"] * len(inspect.signature(f).parameters)) for f in vars(prompts).values()
              if inspect.isfunction(f) and f.__module__ == prompts.__name__ and f is not prompts.numbered
              and all("list" not in str(p.annotation) for p in inspect.signature(f).parameters.values())]
    texts += [prompts.help_text(s) for s in ("menu", "order", "verify")]
    invited = [t for t in texts for w in OPT_OUT_WORDS if re.search(rf"['\"]{w}['\"]", t, re.IGNORECASE)]
    assert invited == []


def sms(client, text: str, **extra):
    assert wh.twilio_post(client, "/webhooks/twilio/messaging", wh.sms("+14155550708", text, **extra)).status_code \
        == 200


def test_help_over_sms_never_invites_an_opt_out_word(client, shop):
    run = Pipeline(shop)
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "help"):
        sms(client, line)
        run.drain()
    said = shop.senders["sms"].texts("+14155550708")[-1].lower()
    assert "'menu'" in said and not any(f"'{w}'" in said for w in OPT_OUT_WORDS)


@pytest.mark.parametrize("word, opt_out_type", [("HELP", "HELP"), ("info", "HELP"), ("START", "START"),
                                                ("unstop", "START"), ("Arrêt", "STOP")])
def test_what_twilios_advanced_opt_out_answered_gets_no_second_answer(client, shop, word, opt_out_type):
    sms(client, word, OptOutType=opt_out_type)
    assert wh.nothing_queued(shop)
    if opt_out_type == "STOP":  # a shop's own opt-out keyword: recorded, the number is never messaged
        from channels.twilio_messaging import OptOuts

        assert "+14155550708" in OptOuts(shop.redis)


def test_without_advanced_opt_out_help_gets_our_one_answer(client, shop):
    sms(client, "HELP")
    Pipeline(shop).drain()
    assert len(shop.senders["sms"].texts("+14155550708")) == 1
