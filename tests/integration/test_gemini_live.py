"""Gemini slow, through the whole pipeline: real Redis, two real worker processes, the fake model
taking 10 s per answer. Every turn is cut at the timeout, the order completes offline, and after
GEMINI_BREAKER_FAILURES timeouts no worker process waits for the model at all."""
import time

import pytest

pytestmark = pytest.mark.integration

TIMEOUT = 1.0  # GEMINI_TIMEOUT_SECONDS of the live_gemini stack


def test_a_slow_model_never_holds_up_an_order(live_gemini):
    live = live_gemini
    with live.gemini_mode("on"):
        live.gemini.mode = "slow"
        user, phone = live.unique("slow"), "+14155559901"
        waits = []

        def chat(text):
            started = time.monotonic()
            reply = live.chat(user, text, phone)
            waits.append(time.monotonic() - started)
            return "\n".join(reply["replies"])

        assert "What's your name?" in chat("hi")
        chat("Sam Slow")
        chat("1 Slow Lane, Springfield")
        chat("1")
        # lines the offline parser is unsure of: each asks the model, which never answers in time
        assert "Added 2 kg × Apples" in chat("2 kg of apples, the crunchy ones")
        assert "Your cart:" in chat("tell me what is in my cart right now")
        chat("is the cheddar lactose free?")
        assert "Added 0.5 kg × Carrots" in chat("and half a kilo of carrots, the orange ones")
        assert "Shall I place it?" in chat("done")
        assert "is placed" in chat("yes")
        stats = live.stats()
        assert stats["nlu_fallback:timeout"] == 3 and stats["nlu_breaker_opened"] == 1
        assert stats["nlu_fallback:breaker_open"] >= 1
        assert len(live.gemini.readings_asked()) == 3  # the open breaker kept both workers from asking
        # the timeout plus a moment (generous bound: shared CPUs), never the model's 10 s
        assert max(waits) < TIMEOUT + 3, waits
