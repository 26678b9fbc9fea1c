"""`python -m bot doctor` and /readyz tell whoever runs the shop, in plain words, whether the Gemini key
and model work: one cheap call against the strict fake, through the real SDK. The key is never shown."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bot.config import load_settings
from tests.conftest import API_TOKEN, GEMINI_KEY, OPERATOR_TOKEN, PLAIN_SHOP, ROOT


def doctor(fake_gemini, **env):
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SHOP_FILE": PLAIN_SHOP, "GEMINI_API_KEY": GEMINI_KEY,
            "GEMINI_API_URL": fake_gemini.url}
    return subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_doctor_says_the_model_answered(fake_gemini):
    res = doctor(fake_gemini)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK    gemini: gemini-3.5-flash-lite answered in" in res.stdout and "API v1beta" in res.stdout
    [call] = fake_gemini.requests  # one call
    assert call["path"] == "/v1beta/models/gemini-3.5-flash-lite:generateContent"


@pytest.mark.parametrize("env, said", [
    ({"GEMINI_MODEL": "gemini-2.0-flash"},
     "GEMINI_MODEL=gemini-2.0-flash is not a model this key can use (retired, misspelt"),
    ({"GEMINI_API_KEY": "AIza-not-the-right-key-000"}, "GEMINI_API_KEY was refused: the key is not valid"),
    ({"GEMINI_MODEL": "gemini-3.5-flash-lite-typo"}, "GEMINI_MODEL=gemini-3.5-flash-lite-typo is not a model"),
])
def test_doctor_says_what_is_wrong_in_plain_words(fake_gemini, env, said):
    res = doctor(fake_gemini, **env)
    assert res.returncode == 1
    assert "FAIL  gemini: " + said in res.stdout and "Google said: " in res.stdout
    assert "AIza-not-the-right-key" not in res.stdout + res.stderr and GEMINI_KEY not in res.stdout + res.stderr


def test_doctor_warns_about_a_model_being_retired(fake_gemini):
    res = doctor(fake_gemini, GEMINI_MODEL="gemini-2.5-flash")
    assert res.returncode == 0 and "WARN  gemini: gemini-2.5-flash is deprecated" in res.stdout


def test_doctor_says_when_gemini_is_down(fake_gemini):
    fake_gemini.stop()
    res = doctor(fake_gemini)
    assert res.returncode == 1 and "could not get an answer from Gemini" in res.stdout


def test_doctor_without_a_key_says_the_shop_runs_offline(fake_gemini):
    res = doctor(fake_gemini, GEMINI_API_KEY="")
    assert res.returncode == 0 and "not configured" in res.stdout and fake_gemini.requests == []


def test_readiness_reports_the_model_without_waiting_for_it_and_without_failing(fake_gemini, fake_redis, store,
                                                                                senders):
    from bot.app import create_app
    from bot.runtime import build

    settings = load_settings({}, API_TOKEN=API_TOKEN, OPERATOR_TOKEN=OPERATOR_TOKEN, GEMINI_API_KEY=GEMINI_KEY,
                             GEMINI_API_URL=fake_gemini.url, GEMINI_MODEL="gemini-2.0-flash", SHOP_FILE=PLAIN_SHOP)
    rt = build(settings, redis=fake_redis, store=store, senders=senders, load_sample=True)
    client = create_app(rt).test_client()
    first = client.get("/readyz")
    assert first.status_code == 200 and first.get_json()["checks"]["gemini"] is None  # checking, in the background
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        checks = client.get("/readyz").get_json()["checks"]
        if checks["gemini"] is not None:
            break
        time.sleep(0.05)
    assert checks["gemini"] is False and "GEMINI_MODEL=gemini-2.0-flash is not a model" in checks["gemini_said"]
    assert client.get("/readyz").status_code == 200  # the shop still answers, offline: ready
    for _ in range(5):
        client.get("/readyz")
    assert len(fake_gemini.requests) == 1  # one call, kept for ten minutes
