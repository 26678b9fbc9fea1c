"""Helpers for the operators' side tests: the operator's header, a scripted burst of conversations
on several channels (and what it should have produced), and a Prometheus text reader."""
from __future__ import annotations

from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from bot.common.errors import RecipientUnreachable
from tests.conftest import OPERATOR_TOKEN

OP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
REGISTER = ("hi", "{name}", "{n} Main Street, Springfield")


class RefusingOnce:
    """A channel sender that refuses one address the first time (the customer blocked the bot),
    then delivers: what a dead letter and its retry look like from the channel's side."""

    def __init__(self, channel: str, refuse: str):
        self.channel, self.refuse, self.sent, self.refused = channel, refuse, [], 0

    def send(self, message, part_sent=None) -> None:
        if message.address == self.refuse and not self.refused:
            self.refused += 1
            raise RecipientUnreachable("403 Forbidden: bot was blocked by the user")
        self.sent.append(message)

    def texts(self, address=None) -> list[str]:
        return [m.text for m in self.sent if address is None or m.address == address]


def burst_senders(redis) -> dict:
    """The senders `burst` expects: Telegram refuses the chat 'blocked-chat' once."""
    from channels.base import CollectingSender
    from channels.dev_sms import DevOutboxSender

    return {"sms": DevOutboxSender(redis), "telegram": RefusingOnce("telegram", "blocked-chat"),
            "whatsapp": CollectingSender("whatsapp")}


def burst(pipeline) -> dict:
    """Conversations on api, console, whatsapp and telegram through the pipeline; returns what the test
    itself counted (messages it sent, replies it got back or saw delivered, orders it placed)."""
    sent, sync_replies = Counter(), Counter()

    def say(channel, who, text, phone=None, message_id=None):
        sent[channel] += 1
        if channel in ("api", "console"):
            reply = pipeline.say(text, channel=channel, user=who, phone=phone, message_id=message_id)
            sync_replies[channel] += len(reply["replies"])
            return reply
        pipeline.send(text, channel=channel, address=who, phone=phone, message_id=message_id)
        pipeline.drain()
        return None

    customers = [("api", "ana", "+14155550101", "Ana"), ("console", "bob", "+14155550102", "Bob"),
                 ("whatsapp", "+14155550103", "+14155550103", "Cleo")]
    for n, (channel, who, phone, name) in enumerate(customers, 1):
        for line in REGISTER:
            say(channel, who, line.format(name=name, n=n), phone)
    for channel, who, phone, item in (("api", "ana", "+14155550101", "a dozen eggs"),
                                      ("console", "bob", "+14155550102", "2 kg of apples")):
        for line in ("1", item, "done", "yes"):
            say(channel, who, line, phone)
    say("whatsapp", "+14155550103", "I want to talk to a person", "+14155550103")
    say("whatsapp", "+14155550103", "my order was wrong", "+14155550103")  # a person has it: no reply
    say("telegram", "4242", "hi", message_id="tg-1")  # not identified: asked for a phone
    pipeline.send("hi", channel="telegram", address="4242", message_id="tg-1")  # Telegram redelivers it
    say("telegram", "blocked-chat", "hi")  # the reply to this one is refused by the channel
    pipeline.deliver()
    return {"sent": sent, "sync_replies": sync_replies, "duplicates": Counter(telegram=1),
            "started": Counter(api=1, console=1, whatsapp=1, telegram=2), "orders": 2}


def metric_values(text: str) -> dict[tuple, float]:
    """{(sample name, (label pairs...)): value} from Prometheus' text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out
