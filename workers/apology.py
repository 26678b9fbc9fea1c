"""What a customer hears when their message was parked: silence would be worse."""
from __future__ import annotations

import json

from bot.pipeline import Parked, outbox
from statemachine.prompts import OUTSIDE_A_TURN

APOLOGY = OUTSIDE_A_TURN["parked"]


def apology_for(parked: Parked) -> tuple[str, str, str]:
    """The park's apology, where the customer of this inbound dead letter will hear it."""
    entry = json.loads(parked.entry)
    return outbox.apology({"channel": entry["channel"], "address": entry["address"],
                           "message_id": entry["message_id"]}, APOLOGY)
