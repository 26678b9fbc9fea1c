"""Telling a customer that the shop moved their order on, on the channel they ordered from.

Asynchronous channels (Telegram, WhatsApp, SMS) get it through their outbox, delivered (and
retried, or parked) like every reply; synchronous ones (/api/chat, the console, voice) cannot be
pushed to, so it waits in the identity's notices. Either way it joins the customer's history.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.operations import activity
from bot.pipeline import SYNC_CHANNELS, OutboundMessage
from statemachine.prompts import ORDER_UPDATE_WORDS, ORDER_UPDATES

if TYPE_CHECKING:
    from bot.runtime import Runtime


def order_update(rt: Runtime, order: dict, status: str, by: str) -> str | None:
    """Notify the order's customer; returns how ('outbound' or 'notices'), or None if nobody to tell."""
    identity = order.get("identity")
    if not identity or order.get("anonymised") or status not in ORDER_UPDATES:
        return None
    channel, _, address = identity.partition(":")
    text = ORDER_UPDATES[status].format(number=order["number"])
    notice_id = f"order:{order['_id']}:{status}"
    now = time.time()
    counters = {f"messages_out:{channel}": 1, "order_updates_sent": 1}
    if channel in SYNC_CHANNELS:
        how = "notices"
        rt.outbox.notify(identity, [(notice_id, text, "order_update")], counters, phone=order.get("phone"))
    else:
        how = "outbound"
        rt.outbox.push([OutboundMessage(channel=channel, address=address, text=text, reply_id=notice_id,
                                        template="order_update",  # outside WhatsApp's window: the template
                                        variables={"1": str(order["number"]), "2": ORDER_UPDATE_WORDS[status]})],
                       counters)
        rt.outbox.kick()
    activity.record_turn(rt.redis, channel=channel, active_key=None, inbound=0, outbound=1, now=now)
    rt.store.messages.record([{"_id": notice_id, "phone": order.get("phone"), "identity": identity, "channel": channel,
                               "direction": "out", "text": text, "intent": None, "entities": {}, "state": None,
                               "at": now, "message_id": notice_id, "by": by}])
    return how
