"""Every conversation scenario in tests/conversations/*.yaml, through the whole pipeline:
HTTP -> ingress -> real Redis -> two real worker processes -> store -> reply."""
import pytest

from tests.support import scenarios

pytestmark = pytest.mark.integration

ALL = scenarios.load_all()


def test_the_required_scenarios_exist():
    names = {s["_file"] for s in ALL}
    assert {"new_customer_full_order.yaml", "returning_customer_order.yaml", "out_of_stock.yaml",
            "ambiguous_item.yaml", "removal.yaml", "cancel_order.yaml", "delete_my_data.yaml",
            "idle_timeout.yaml", "verification_lockout.yaml", "other_customers_phone.yaml"} <= names
    # issue 13: a scenario for each of the shop's rules
    assert {f"rules_{n}.yaml" for n in ("below_minimum", "free_delivery", "outside_area", "outside_hours", "slot_full",
                                        "race_last_slot", "pay_on_delivery", "pay_by_link", "link_expired",
                                        "ran_out_before_confirm", "reorder", "voice_call")} <= names
    # issue 14: each message the shop sends first, opt-out, quiet hours, a template outside the window
    assert {f"outreach_{n}.yaml" for n in ("back_in_stock", "cart_reminder", "quiet_hours", "whatsapp_window")} <= names


@pytest.mark.parametrize("scenario", ALL, ids=[s["_file"].removesuffix(".yaml") for s in ALL])
def test_scenario(request, scenario):
    mode = scenario.get("gemini")  # on | down: the stack whose workers use the fake Gemini
    if not mode:
        return scenarios.run(request.getfixturevalue("live"), scenario)
    with request.getfixturevalue("live_gemini").gemini_mode(mode) as live:
        scenarios.run(live, scenario)
