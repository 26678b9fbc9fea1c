"""What a customer hears when their message was parked: silence would be worse."""
from __future__ import annotations

import json

from bot import keys, queues
from bot.mailbox import encode
from channels.base import SYNC_CHANNELS, OutboundMessage

APOLOGY = "Sorry, something went wrong on our side and I couldn't process your last message. A person will look at it."


def apologise(rt, msg: dict) -> None:
    """Tell the customer (or the waiting caller) that their message could not be processed."""
    redis = rt.redis
    if msg["channel"] in SYNC_CHANNELS:
        body = json.dumps({"message_id": msg["message_id"], "to": msg["address"], "state": None,
                           "error": "processing_failed",
                           "replies": [{"text": APOLOGY, "buttons": [], "request_phone": False, "options": []}]})
        with redis.pipeline() as pipe:
            pipe.set(keys.reply(msg["message_id"]), body, ex=3600)
            pipe.rpush(keys.reply_ready(msg["message_id"]), "1")
            pipe.expire(keys.reply_ready(msg["message_id"]), 3600)
            pipe.execute()
    else:
        out = OutboundMessage(channel=msg["channel"], address=msg["address"], text=APOLOGY,
                              reply_id=f"{msg['channel']}:{msg['message_id']}:apology")
        redis.xadd(keys.OUTBOUND, {"m": encode(out.to_dict())})
        queues.kick_outbound(redis)
