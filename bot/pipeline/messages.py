"""The message path's two shapes: what a channel accepted (InboundMessage) and what goes back out
(OutboundMessage). Channels build them; this package stores and moves them; nothing else encodes them.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields

SYNC_CHANNELS = ("api", "voice", "console")  # the caller waits for the reply in the same request


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # api | console | telegram | whatsapp | sms | voice
    message_id: str  # the channel's own id for this message: the dedupe key
    address: str  # where replies go on this channel (chat id, phone, user id)
    text: str
    contact: str | None = None  # an E.164 phone the channel vouches for (never a typed one)
    received_at: float = field(default_factory=time.time)
    kind: str = "text"  # text | contact | media | location | unsupported | operator_reply | handback
    meta: dict = field(default_factory=dict)  # channel extras, JSON-safe

    @property
    def identity(self) -> str:
        """Who is writing, as this channel knows them: the owner of a mailbox."""
        return f"{self.channel}:{self.address}"

    def to_dict(self) -> dict:  # every field is flat or a plain dict: no need for asdict's deep copy
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> InboundMessage:
        return cls(**d)


@dataclass(frozen=True)
class OutboundMessage:
    """One reply to one recipient. `parts_sent` lets a long reply split by its channel resume at the
    first part not yet sent; `attempt`/`first_failed_at` drive retries within the retry window."""

    channel: str
    address: str
    text: str
    reply_id: str  # unique per reply: "<channel>:<message id>:<n>" (or a notice's own id)
    buttons: tuple[str, ...] = ()
    request_phone: bool = False
    attempt: int = 0
    received_at: float | None = None  # when the customer's message arrived (reply latency)
    parts_sent: int = 0
    first_failed_at: float | None = None
    redact: bool = False  # holds a secret (a one-time code): never copied into a dead letter
    template: str = ""  # a purpose ("order_update", "feedback"...): outside WhatsApp's 24-hour window the
    variables: dict = field(default_factory=dict)  # message goes as that purpose's template, with these

    @property
    def recipient(self) -> str:
        return f"{self.channel}:{self.address}"

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["buttons"] = list(self.buttons)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> OutboundMessage:
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in d.items() if k in known}, "buttons": tuple(d.get("buttons", ()))})


def encode(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def message_id_of(reply_id: str) -> str:
    """'sms:SM123:0' -> 'SM123' (for log lines about a reply); other ids are returned whole."""
    parts = reply_id.split(":")
    return parts[1] if len(parts) >= 3 else reply_id
