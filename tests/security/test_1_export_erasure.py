"""Item 1: export and erasure select by phone. An integrator's identity serving many phones (a call
centre's tablet) is the case that used to leak: one customer's export showed the other's name,
address and messages, and erasing one deleted the other's history."""
from __future__ import annotations

from tests.security.conftest import OP, as_text, chat, codes_to, register_and_order, said

P1, P2 = "+14155550101", "+14155550202"
ANA, ANA_ST = "Ana Lima", "12 Main Street, Springfield"
BEN, BEN_ST = "Ben Ortiz", "99 Harbour Road, Shelbyville"


def two_customers_on_one_tablet(client, worker, shop):
    """The call centre's tablet orders for P1 and P2; P2 also talks to a person and gets a reply."""
    register_and_order(client, "tablet", P1, ANA, ANA_ST)
    register_and_order(client, "tablet", P2, BEN, BEN_ST, item="3 bananas")
    said(client, "tablet", "talk to a person", P2)
    [waiting] = client.get("/api/handoffs", headers=OP).get_json()["waiting"]
    assert client.post(f"/api/handoffs/{waiting['key']}/reply", json={"text": "Ben, your apples are coming"},
                       headers=OP).status_code == 202
    deadline_said = said(client, "tablet", "thanks", P2)  # the operator's words reach the tablet as a notice
    assert deadline_said == ""  # a person has the conversation: the bot stays quiet


def ben_traces(text: str) -> list[str]:
    return [t for t in (P2, BEN, BEN_ST, "apples are coming", "bananas", "Shelbyville") if t in text]


def test_a_shared_integrator_identity_export_shows_only_that_phone(client, worker, shop):
    two_customers_on_one_tablet(client, worker, shop)
    res = client.get(f"/api/customers/{P1}/export", headers=OP)
    assert res.status_code == 200
    export = as_text(res.get_json())
    assert ANA in export and ANA_ST in export and "dozen eggs" in export
    assert ben_traces(export) == []  # nothing of the other customer


def test_erasing_one_phone_leaves_the_others_history_whole(client, worker, shop):
    two_customers_on_one_tablet(client, worker, shop)
    before = client.get(f"/api/customers/{P2}/history?limit=2000", headers=OP).get_json()
    export_before = client.get(f"/api/customers/{P2}/export", headers=OP).get_json()
    assert client.delete(f"/api/customers/{P1}", headers=OP).status_code == 200
    after = client.get(f"/api/customers/{P2}/history?limit=2000", headers=OP).get_json()
    export_after = client.get(f"/api/customers/{P2}/export", headers=OP).get_json()
    assert after == before and len(after["messages"]) >= 15
    assert export_after["orders"] == export_before["orders"] and export_after["orders"][0]["customer_name"] == BEN
    assert export_after["notices"] == export_before["notices"] != {}  # the operator's words to Ben still wait
    assert client.get(f"/api/customers/{P1}/export", headers=OP).status_code == 404
    # the tablet still works for Ben, as Ben
    assert "Welcome back, Ben Ortiz" in said(client, "tablet", "restart", P2)


def test_the_customers_own_delete_my_data_on_a_shared_identity(client, worker, shop):
    two_customers_on_one_tablet(client, worker, shop)
    before = client.get(f"/api/customers/{P2}/history?limit=2000", headers=OP).get_json()
    said(client, "tablet", "menu", P1)
    said(client, "tablet", "delete my data", P1)
    assert "Everything we held about you is deleted" in said(client, "tablet", "yes", P1)
    assert client.get(f"/api/customers/{P1}/export", headers=OP).status_code == 404
    assert client.get(f"/api/customers/{P2}/history?limit=2000", headers=OP).get_json() == before


def test_what_a_chat_wrote_before_proving_a_number_is_that_numbers_only(client, worker, shop):
    """A phone-less row (the typed number, the code) belongs to the number the chat then proved."""
    said(client, "kiosk", "hi")
    said(client, "kiosk", P1)
    said(client, "kiosk", codes_to(shop, P1)[-1])
    said(client, "kiosk", ANA)
    said(client, "kiosk", ANA_ST)
    register_and_order(client, "tablet", P2, BEN, BEN_ST)
    export = client.get(f"/api/customers/{P1}/export", headers=OP).get_json()
    texts = [m["text"] for m in export["messages"]]
    assert "hi" in texts and P1 in texts and ANA in texts  # from before the code, and after
    assert ben_traces(as_text(export)) == []
    assert client.delete(f"/api/customers/{P1}", headers=OP).status_code == 200
    assert shop.store.messages.col.count_documents({"identity": "api:kiosk"}) == 0
    assert chat(client, "kiosk", "hello").get_json()["state"] == "verify"  # the kiosk's link went too
