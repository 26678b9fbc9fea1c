"""The one contract every channel keeps: parse + authenticate in, send out.

A channel module turns its webhook into an `InboundMessage` and hands it to `bot.ingress`; it
turns an `OutboundMessage` into its API's call in a `Sender`. Business rules live elsewhere.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from typing import Protocol

SYNC_CHANNELS = ("api", "voice", "console")  # the caller waits for the reply in the same request


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # api | console | telegram | whatsapp | sms | voice
    message_id: str  # the channel's own id for this message: the dedupe key
    address: str  # where replies go on this channel (chat id, phone, user id)
    text: str
    contact: str | None = None  # an E.164 phone the channel vouches for (never a typed one)
    received_at: float = field(default_factory=time.time)
    kind: str = "text"  # text | contact | media | location | unsupported
    meta: dict = field(default_factory=dict)  # channel extras, JSON-safe

    @property
    def identity(self) -> str:
        """Who is writing, as this channel knows them: the key of their mailbox."""
        return f"{self.channel}:{self.address}"

    def to_dict(self) -> dict:  # every field is flat or a plain dict: no need for asdict's deep copy
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "InboundMessage":
        return cls(**d)


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    address: str
    text: str
    reply_id: str  # unique per reply: "<message id>:<n>"
    buttons: tuple[str, ...] = ()
    request_phone: bool = False
    attempt: int = 0
    received_at: float | None = None  # when the customer's message arrived (reply latency)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["buttons"] = list(self.buttons)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "OutboundMessage":
        return cls(**{**d, "buttons": tuple(d.get("buttons", ()))})


class Sender(Protocol):
    """Hands a reply to a channel's API. Raises bot.errors.TransientSendError / PermanentSendError."""

    channel: str

    def send(self, message: OutboundMessage) -> None: ...


class CollectingSender:
    """A sender that keeps what it was given: for tests and the embedded default's outbox."""

    def __init__(self, channel: str):
        self.channel = channel
        self.sent: list[OutboundMessage] = []
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> None:
        with self._lock:
            self.sent.append(message)

    def texts(self, address: str | None = None) -> list[str]:
        with self._lock:
            return [m.text for m in self.sent if address is None or m.address == address]
