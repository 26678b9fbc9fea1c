"""Telling a customer that the shop moved their order on, on the channel they ordered from.

Asynchronous channels (Telegram, WhatsApp, SMS) get an OutboundMessage on the outbound stream,
delivered (and retried, or parked) like every reply. Synchronous ones (/api/chat, the console,
voice) cannot be pushed to: the notice waits in the identity's notices for the integrator to
fetch. Either way the notice joins the customer's message history.
"""
from __future__ import annotations

import time

from channels.base import SYNC_CHANNELS, OutboundMessage
from statemachine.prompts import ORDER_UPDATES

from . import activity, keys, notices, queues
from .mailbox import encode


def order_update(rt, order: dict, status: str, by: str) -> str | None:
    """Notify the order's customer; returns how ('outbound' or 'notices'), or None if nobody to tell."""
    identity = order.get("identity")
    if not identity or order.get("anonymised") or status not in ORDER_UPDATES:
        return None
    channel, _, address = identity.partition(":")
    text = ORDER_UPDATES[status].format(number=order["number"])
    notice_id = f"order:{order['_id']}:{status}"
    now = time.time()
    with rt.redis.pipeline() as pipe:  # the notice and its counters together (MULTI)
        if channel in SYNC_CHANNELS:
            how = "notices"
            notices.add(pipe, identity, [(notice_id, text, "order_update")], now=now)
        else:
            how = "outbound"
            message = OutboundMessage(channel=channel, address=address, text=text, reply_id=notice_id)
            pipe.xadd(keys.OUTBOUND, {"m": encode(message.to_dict())})
        pipe.hincrby(keys.STATS, f"messages_out:{channel}", 1)
        pipe.hincrby(keys.STATS, "order_updates_sent", 1)
        pipe.execute()
    if how == "outbound":
        queues.kick_outbound(rt.redis)
    activity.record_turn(rt.redis, channel=channel, active_key=None, inbound=0, outbound=1, now=now)
    rt.store.messages.record([{"_id": notice_id, "phone": order.get("phone"), "identity": identity, "channel": channel,
                               "direction": "out", "text": text, "intent": None, "entities": {}, "state": None,
                               "at": now, "message_id": notice_id, "by": by}])
    return how
