"""Item 5: no full phone number in a log line (gunicorn's access log included), a Redis key's name,
or a URL the dashboard calls."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT
from tests.security.conftest import API, OP, register_and_order, said
from tests.support import webhooks as wh

P1, P2, P3 = "+14155550501", "+14155550502", "+14155550503"
NATIONALS = ("4155550501", "4155550502", "4155550503")


def busy_shop(client, shop):
    """Numbers everywhere: SMS, WhatsApp, a typed number and wrong codes (a lock), a handoff, an
    operator reading and erasing a customer by number."""
    for line in ("hi", "Ana Lima", "12 Main Street, Springfield", "1", "a dozen eggs", "done", "yes"):
        wh.twilio_post(client, "/webhooks/twilio/messaging", wh.sms(P1, line))
    wh.twilio_post(client, "/webhooks/twilio/messaging", wh.whatsapp(P2, "hi"))
    said(client, "kiosk", "hi")
    said(client, "kiosk", P3)
    for _ in range(5):
        said(client, "kiosk", "000000")
    register_and_order(client, "tablet", P2, "Ben Ortiz", "9 Harbour Road, Shelbyville")
    said(client, "tablet", "talk to a person", P2)
    client.get(f"/api/orders?customer={P1}", headers=OP)
    client.get(f"/api/customers/{P2}/history", headers=OP)
    client.get(f"/api/customers/{P1}/export", headers=OP)


def test_no_redis_key_is_named_after_a_number(client, worker, shop):
    busy_shop(client, shop)
    names = [k.decode() for k in shop.redis.scan_iter(count=1000)]
    assert any(n.startswith("ol:otp:lock:") for n in names)  # the lock-out exists, named by a digest
    assert [n for n in names if any(d in n for d in NATIONALS)] == []


def test_the_dashboard_calls_no_url_with_a_number(client, worker, shop):
    busy_shop(client, shop)
    data = client.get("/api/dashboard", headers=OP).get_json()
    [waiting] = data["handoffs"]
    assert re.fullmatch(r"h[0-9a-f]{20}", waiting["key"])  # the id its reply and hand-back URLs carry
    assert not any(d in json.dumps(data) for d in NATIONALS)  # masked wherever it shows a number
    # dashboard.js builds its URLs from those ids only
    js = (ROOT / "bot/web/static/dashboard.js").read_text()
    built = re.findall(r'"(/api/[^"]*)" \+ encodeURIComponent\((\w+)\.(\w+)\)', js)
    assert {(obj, field) for _, obj, field in built} <= {("h", "key"), ("o", "id"), ("d", "id")}
    reply = client.post(f"/api/handoffs/{waiting['key']}/reply", json={"text": "hello Ben"}, headers=OP)
    assert reply.status_code == 202
    assert client.post(f"/api/handoffs/phone:{P2}/handback", headers=OP).status_code == 404  # numbers don't work


def test_no_log_line_holds_a_number(client, worker, shop, caplog):
    caplog.set_level(logging.DEBUG)
    busy_shop(client, shop)
    assert client.delete(f"/api/customers/{P2}", headers=OP).status_code == 200
    lines = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    assert len(lines) > 50
    assert [line for line in lines if any(d in line for d in NATIONALS)] == []


def test_the_log_format_masks_a_number_even_if_a_caller_forgot(capsys):
    from bot.common.logs import configure

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure("INFO", "text")
        logging.getLogger("orderline.test").info("careless line to=%s", P1)
        configure("INFO", "json")
        try:
            raise ValueError(f"a traceback quoting {P1}")
        except ValueError:
            logging.getLogger("orderline.test").exception("careless json")
    finally:
        root.handlers[:], root.level = handlers, level
    err = capsys.readouterr().err
    assert "careless line to=+*******0501" in err and "careless json" in err and NATIONALS[0] not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorns_access_log_masks_numbers_in_paths_and_query_strings(tmp_path: Path):
    """`python -m bot serve`'s gunicorn command line, against the real app (embedded services)."""
    from tests.conftest import API_TOKEN, OPERATOR_TOKEN

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "MONGO_", "TWILIO_", "TELEGRAM_"))}
    env.update(API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING")
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                 "--access-logfile", "-", "--logger-class", "bot.web.access_log.MaskedAccessLogger",
                                 "bot.wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.2)
        for path, headers in ((f"/api/customers/%2B{NATIONALS[0]}/export", OP),
                              (f"/api/orders?customer=%2B{NATIONALS[1]}", OP),
                              (f"/api/chat/abc?user_id=+{NATIONALS[2]}", API)):
            try:
                urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=5)
            except urllib.error.HTTPError:
                pass
    finally:
        proc.terminate()
        proc.wait(10)
    text = log.read_text()
    assert "/api/customers/%2B******0501/export" in text and "customer=%2B******0502" in text
    assert "user_id=+******0503" in text
    assert not any(d in text for d in NATIONALS) and API_TOKEN not in text and OPERATOR_TOKEN not in text
