"""What a turn leaves on record besides its state and replies: the history rows, the durable
conversation record (at milestones), the operators' counters and the dashboard's activity. Pure:
the lane writes them (workers/lane.py, workers/flush.py)."""
from __future__ import annotations

import os
import socket
import time
from collections import Counter

import statemachine as sm
from bot.nlu.types import NluResult
from bot.operations import activity as charts
from bot.pipeline import InboundMessage
from workers.perform import Applied

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

# States whose arrival is written to the durable conversation record (with the first turn): the
# live state is in Redis, and a write per state change cost the store more than anything else.
MILESTONES = ("menu", "handoff", "greeting")


def target_key(conv: sm.Conversation, msg: InboundMessage) -> str:
    """Where the conversation lives after the turn: its phone's once verified, else the identity's."""
    return f"phone:{conv.phone}" if conv.phone else f"id:{msg.identity}"


def history(msg: InboundMessage, conv: sm.Conversation, nlu: NluResult, replies: list[sm.Reply], conv_key: str,
            state_before: str, now: float) -> tuple[list[dict], dict | None]:
    """The turn's history rows (ids derived from the message: written once however often it is
    processed) and, when the state moved, the conversation record to update."""
    base = f"{msg.channel}:{msg.message_id}"
    common = {"phone": conv.phone, "identity": msg.identity, "channel": msg.channel}
    if msg.kind in sm.CONTROL_KINDS:  # only what the customer is told, marked as the operator's words
        return _control_rows(msg, conv, replies, base, common, now), (
            _touch(conv_key, conv, msg, now) if conv.state != state_before else None)
    understood = nlu.to_dict()
    entities = {k: understood[k] for k in ("items", "unknown", "ambiguous", "invalid") if understood[k]}
    rows = [{"_id": base + ":in", **common, "direction": "in", "text": msg.text, "intent": nlu.intent,
             "entities": entities, "state": state_before, "at": msg.received_at, "message_id": msg.message_id,
             "processed_at": now, "processed_by": WORKER_ID, "source": nlu.source}]
    rows += [{"_id": f"{base}:out:{i}", **common, "direction": "out", "text": r.text, "intent": None,
              "entities": {}, "state": conv.state, "at": now, "message_id": msg.message_id}
             for i, r in enumerate(replies)]
    milestone = conv.turns == 1 or (conv.state != state_before and conv.state in MILESTONES)
    return rows, _touch(target_key(conv, msg), conv, msg, now) if milestone else None


def _control_rows(msg: InboundMessage, conv: sm.Conversation, replies: list[sm.Reply], base: str, common: dict,
                  now: float) -> list[dict]:
    by = msg.meta.get("by", "operator") if msg.kind == sm.OPERATOR_REPLY else "bot"
    return [{"_id": f"{base}:out:{i}", **common, "direction": "out", "text": r.text, "intent": None,
             "entities": {}, "state": conv.state, "at": now, "message_id": msg.message_id, "by": by}
            for i, r in enumerate(replies)]


def _touch(key: str, conv: sm.Conversation, msg: InboundMessage, now: float) -> dict:
    return {"key": key, "state": conv.state, "channel": msg.channel, "phone": conv.phone, "now": now,
            "started_at": conv.started_at}


def counters(msg: InboundMessage, replies: list[sm.Reply], applied: Applied, started: bool = False,
             completed: bool = False) -> dict[str, int]:
    """The turn's operator counters, committed with it."""
    control = msg.kind in sm.CONTROL_KINDS
    counted = Counter(applied.counters)
    counted[f"messages_out:{msg.channel}"] = counted.get(f"messages_out:{msg.channel}", 0) + len(replies)
    if msg.kind in sm.OUTREACH_KINDS:  # a message the shop sends first: said, or found no longer true
        counted[f"outreach_{'sent' if replies else 'silent'}:{msg.kind}"] += 1
    elif control:
        counted["operator_replies" if msg.kind == sm.OPERATOR_REPLY else "handbacks"] += 1
    else:
        counted[f"turns:{msg.channel}"] = 1
        waited_ms = max(0.0, time.time() - msg.received_at) * 1000  # acceptance to answer
        counted.update(charts.latency_counters(msg.channel, waited_ms))
    if started:
        counted[f"conversations_started:{msg.channel}"] += 1
    if completed:  # a conversation completes once, however many orders it places (completed <= total)
        counted["conversations_completed"] += 1
    return dict(counted)


def activity(msg: InboundMessage, active_key: str | None, conv_key: str, control: bool, replies: int,
             counted: dict[str, int], now: float) -> dict:
    """What the dashboard's charts and the active set learn from this turn."""
    return {"channel": msg.channel, "active_key": active_key, "stale_keys": (conv_key,),
            "inbound": 0 if control else 1, "outbound": replies, "orders": counted.get("orders_placed", 0),
            "revenue_cents": sum(n for name, n in counted.items() if name.startswith("revenue_cents:")), "now": now}
