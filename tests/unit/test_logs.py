"""Logs carry a message id from ingress through the worker to the send, and never hold a secret,
a one-time code or a full phone number."""
import json
import logging
import re

from bot.common import logs
from tests.conftest import API_TOKEN, OPERATOR_TOKEN

PHONE = "+14155552671"


def test_one_message_id_is_traced_from_ingress_to_send(pipeline, caplog):
    caplog.set_level(logging.INFO)
    logs.stamp(caplog.handler)
    message_id = pipeline.send("hi", channel="whatsapp", address=PHONE, phone=PHONE)
    pipeline.drain()
    pipeline.deliver()
    mine = [r for r in caplog.records if r.message_id == message_id]
    stages = {r.name for r in mine}
    assert {"orderline.ingress", "orderline.worker", "orderline.outbound"} <= stages
    assert any("sent channel=whatsapp" in r.getMessage() for r in mine)


def test_logs_hold_no_secrets_codes_or_full_phone_numbers(pipeline, rt, client, caplog):
    caplog.set_level(logging.DEBUG)
    for line in ("hi", "Ana Lima", "12 Main Street", "1", "a dozen eggs", "done", "yes", "4", "yes"):
        pipeline.say(line, user="ana", phone=PHONE)
    pipeline.say("hello", user="tg")
    pipeline.say("+1 415 555 2699", user="tg")
    pipeline.deliver()
    code = pipeline.last_code("+14155552699")
    pipeline.say(code, user="tg")
    client.post("/api/chat", json={"user_id": "x", "message": "hi"}, headers={"Authorization": "Bearer wrong"})
    text = caplog.text + "\n".join(json.dumps(r.args, default=str) for r in caplog.records if r.args)
    assert not re.search(r"\+?1?415555\d{4}", text.replace(" ", "")), "a full phone number was logged"
    for secret in (API_TOKEN, OPERATOR_TOKEN, code, "wrong"):
        assert secret not in text
    assert "2671" in text  # masked numbers keep their last digits, so operators can still correlate


def test_json_format_is_one_object_per_line(capsys):
    logs.configure("INFO", "json")
    try:
        with logs.about("m-123"):
            logging.getLogger("orderline.test").info("hello %s", "there")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["message_id"] == "m-123" and record["msg"] == "hello there" and record["level"] == "INFO"
    finally:
        logging.getLogger().handlers[:] = []
