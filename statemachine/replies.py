"""A reply the bot wants said: text plus hints each channel may render (buttons, a phone request)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[str, ...] = ()  # quick answers; Telegram shows a keyboard, voice reads the text
    request_phone: bool = False  # Telegram offers "Share my phone number"
    options: tuple[str, ...] = field(default=())  # a numbered list inside text, for voice to read naturally

    def to_dict(self) -> dict:
        d = asdict(self)
        d["buttons"], d["options"] = list(self.buttons), list(self.options)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Reply:
        return cls(text=d["text"], buttons=tuple(d.get("buttons", ())), request_phone=d.get("request_phone", False),
                   options=tuple(d.get("options", ())))


def combine(replies: list[Reply]) -> list[Reply]:
    """One message per turn: several sentences become one reply (one SMS, one chat bubble).

    Buttons and options come from the last reply that has them (the question being asked).
    """
    if len(replies) <= 1:
        return list(replies)
    buttons = next((r.buttons for r in reversed(replies) if r.buttons), ())
    options = next((r.options for r in reversed(replies) if r.options), ())
    return [Reply("\n".join(r.text for r in replies), buttons, any(r.request_phone for r in replies), options)]
