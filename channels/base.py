"""The one contract every channel keeps: parse + authenticate in, send out.

A channel module turns its webhook into a `bot.pipeline.InboundMessage` and hands it to the
pipeline's ingress; it turns an `OutboundMessage` into its API's calls in a `Sender` (calls and
/api/chat answer in the webhook's own response and need none). Business rules live elsewhere.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from bot.pipeline import OutboundMessage

PartSent = Callable[[int], None]  # called with n after the n-th part of a split reply went out


class Sender(Protocol):
    """Hands a reply to a channel's API, starting at `message.parts_sent` when the channel splits
    long texts, and calling `part_sent(n)` after each part but the last. Raises
    bot.common.errors.TransientSendError / PermanentSendError."""

    channel: str

    def send(self, message: OutboundMessage, part_sent: PartSent | None = None) -> None: ...


class CollectingSender:
    """A sender that keeps what it was given, for tests (the embedded default's SMS box is dev_sms.py)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[OutboundMessage] = []
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage, part_sent: PartSent | None = None) -> None:
        with self._lock:
            self.sent.append(message)

    def texts(self, address: str | None = None) -> list[str]:
        with self._lock:
            return [m.text for m in self.sent if address is None or m.address == address]
