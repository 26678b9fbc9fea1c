"""Item 3: caller ID is easy to forge. A call from a customer's number heard "Welcome back, {name}",
the delivery address and the orders, and could cancel or erase. Now only a SHAKEN/STIR full
attestation vouches for the number; anyone else proves it with a code texted to it first, and a
withheld number is no number."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.common import redis_keys
from bot.pipeline import keys as pkeys
from tests.security.conftest import codes_to, register_and_order
from tests.support import webhooks as wh

VICTIM, NAME, STREET = "+14155550303", "Vera Victim", "7 Quiet Lane, Springfield"
BASE = "/webhooks/twilio/voice"


class Call:
    def __init__(self, client, caller: str, verstat: str | None):
        self.client, self.caller, self.verstat, self.sid, self.next = client, caller, verstat, wh.sid("CA"), None

    def _post(self, path_and_query: str, params: dict) -> str:
        path, _, query = path_and_query.partition("?")
        res = wh.twilio_post(self.client, path, params,
                             query=dict(p.split("=") for p in query.split("&")) if query else None)
        assert res.status_code == 200, res.get_data(as_text=True)
        twiml = ET.fromstring(res.get_data())
        gather = twiml.find("Gather")
        if gather is not None:
            self.next = gather.get("action").removeprefix(wh.PUBLIC_BASE_URL)
        return " ".join(s.text or "" for s in twiml.iter("Say"))

    def start(self) -> str:
        return self._post(BASE, wh.call_params(self.sid, self.caller, self.verstat))

    def say(self, words: str) -> str:
        return self._post(self.next, wh.speech(self.sid, self.caller, words, self.verstat))

    def press(self, digits: str) -> str:
        return self._post(self.next, wh.keyed(self.sid, self.caller, digits, self.verstat))

    def hang_up(self):
        return wh.twilio_post(self.client, f"{BASE}/status", wh.call_ended(self.sid, self.caller))


@pytest.fixture
def victim(client, worker, shop):
    register_and_order(client, "victim-app", VICTIM, NAME, STREET)
    [order] = shop.store.orders.find({"phone": VICTIM})
    return order


def secrets_heard(heard: str, order: dict) -> list[str]:
    return [s for s in (NAME, "Vera", STREET, "Quiet Lane", str(order["number"])) if s in heard]


@pytest.mark.parametrize("verstat", [None, "TN-Validation-Passed-B", "TN-Validation-Passed-C", "No-TN-Validation",
                                     "TN-Validation-Failed-A"])
def test_a_forged_caller_id_hears_nothing_and_changes_nothing_before_the_code(client, shop, victim, verstat):
    call = Call(client, VICTIM, verstat)
    heard = [call.start()]
    for words in ("order status", "menu", "2", "cancel an order", "3", "yes", "delete my data", "yes", "1234"):
        heard.append(call.say(words))
    heard.append(call.press("000000"))
    assert secrets_heard(" ".join(heard), victim) == []
    assert "text a code to the number you're calling from, the number ending in 0 3 0 3" in heard[0]
    assert shop.store.orders.get(victim["_id"])["status"] == "confirmed"  # nothing cancelled
    assert shop.store.customers.find_by_phone(VICTIM)["name"] == NAME  # nothing erased
    assert not shop.redis.exists(pkeys.identity(f"voice:{VICTIM}").link)


def test_the_code_goes_to_the_real_phone_so_only_its_owner_gets_in(client, shop, victim):
    call = Call(client, VICTIM, None)
    call.start()
    assert "code" in call.say("yes")
    [code] = codes_to(shop, VICTIM)  # texted to the number itself: a forger never sees it
    assert "Welcome back, Vera Victim" in call.press(code)
    assert call.hang_up().status_code == 204
    assert not shop.redis.exists(pkeys.identity(f"voice:call-{call.sid}").link)  # proven for that call only
    assert f"voice:call-{call.sid}" not in shop.store.customers.find_by_phone(VICTIM).get("identities", [])


def test_a_fully_attested_caller_id_vouches_for_the_number(client, shop, victim):
    assert "Welcome back, Vera Victim" in Call(client, VICTIM, wh.ATTESTED).start()


@pytest.mark.parametrize("shop_env", [{"VOICE_CALLER_ID_TRUST": "partial"}])
def test_a_shop_may_widen_trust_to_partial_attestation(client, shop, victim, shop_env):
    assert "Welcome back, Vera Victim" in Call(client, VICTIM, "TN-Validation-Passed-B").start()
    assert "Welcome back" not in Call(client, VICTIM, "TN-Validation-Passed-C").start()


@pytest.mark.parametrize("withheld", ["+7748283", "+8656696", "+266696687", "+7378742833", "+2562533", "+86282452253",
                                      "anonymous", "Restricted", "+1555"])
def test_withheld_caller_ids_are_no_number_and_never_one_customer(client, worker, shop, withheld):
    first = Call(client, withheld, wh.ATTESTED)
    assert "say your phone number, or key it in" in first.start()  # nothing to offer a code to
    first.press("4155550377")
    first.press(codes_to(shop, "+14155550377")[-1])
    first.say("Walt Withheld")
    assert "all set, Walt" in first.say("1 Hidden Road, Springfield")
    second = Call(client, withheld, wh.ATTESTED)  # someone else, withholding their number too
    heard = second.start() + second.say("order status") + second.say("menu")
    assert "Walt" not in heard and "Hidden Road" not in heard
    assert shop.redis.keys(redis_keys.call("*"))  # each call its own identity, none naming the placeholder
    assert not [k for k in shop.redis.keys("*") if withheld.encode() in k]
