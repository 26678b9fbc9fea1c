"""SMS and WhatsApp through Twilio: `POST /webhooks/twilio/messaging`, the delivery status
callback `POST /webhooks/twilio/status`, and the senders (the real `twilio.rest.Client`).

In: verify the signature -> SMS keywords (STOP/START/HELP) -> parse -> ingress.accept. The
sender's number is the customer's identity: Twilio vouches for it. Replies never go in the
webhook's answer (an empty TwiML): they leave through the outbound queue, retried with backoff.
Out: an opted-out SMS number is never messaged; WhatsApp's 24-hour window and other refusals are
permanent (parked with their reason); rate limits and 5xx are retried.

WhatsApp's 24-hour window is known before sending, from when the customer last wrote (recorded at
ingress, bot/pipeline/seen.py): inside it a reply goes as text; outside it, a message the shop sends
first (an order update, back in stock, a cart reminder, a feedback request) goes as the approved
template configured for its purpose (`ContentSid` + `ContentVariables`, WHATSAPP_TEMPLATE_*), and
anything without one is parked with that reason, never sent to fail with 63016.
"""
from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import requests
from flask import Blueprint, Response, abort, request
from redis import Redis
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.common import redis_keys
from bot.common.errors import PermanentSendError, RecipientUnreachable, TransientSendError
from bot.common.phones import mask
from bot.config import Settings
from bot.pipeline import InboundMessage, OutboundMessage, deadletters, seen
from bot.web.current import runtime
from channels import sms_text
from channels.base import PartSent
from channels.twilio_common import form_value, require_twilio_signature, rest_client

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.twilio.messaging")

bp = Blueprint("twilio_messaging", __name__, url_prefix="/webhooks/twilio")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SID = re.compile(r"^(SM|MM|SS)[0-9a-fA-F]{32}$")
REPLY_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
WHATSAPP = "whatsapp:"
STATUS_PATH = "/webhooks/twilio/status"

# Twilio's default opt-out keywords (matched on the whole message, any case): Twilio itself stops
# delivering to a number that sent one, so we record it too and never try.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP"}  # and YES, but only from a number that opted out
HELP_WORDS = {"HELP", "INFO"}

OPTED_OUT_CODES = {21610}  # "Attempt to send to unsubscribed recipient"
WINDOW_CLOSED_CODES = {63016}  # WhatsApp: free-form message outside the 24-hour customer service window
UNREACHABLE_CODES = {21211, 21612, 21614, 63003, 63015, 63024, 30003, 30004, 30005, 30006}
DELIVERY_FAILED = {"failed", "undelivered"}
WINDOW_SECONDS = 24 * 3600  # WhatsApp's customer service window, from the customer's last message
WINDOW_MARGIN_SECONDS = 120  # a text sent this close to the window's end might arrive after it: use the template
TEMPLATE_SETTINGS = {"order_update": "WHATSAPP_TEMPLATE_ORDER_UPDATE",
                     "back_in_stock": "WHATSAPP_TEMPLATE_BACK_IN_STOCK",
                     "cart_reminder": "WHATSAPP_TEMPLATE_CART_REMINDER",
                     "feedback": "WHATSAPP_TEMPLATE_FEEDBACK"}


class OptOuts:
    """SMS numbers that texted STOP (kept in Redis, shared by the web and every worker)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def add(self, number: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.sadd(redis_keys.SMS_OPTED_OUT, number)
            pipe.hincrby(redis_keys.STATS, "sms_opt_outs", 1)
            pipe.execute()

    def remove(self, number: str) -> bool:
        return bool(self.redis.srem(redis_keys.SMS_OPTED_OUT, number))

    def __contains__(self, number: str) -> bool:
        return bool(self.redis.sismember(redis_keys.SMS_OPTED_OUT, number))


EMPTY_TWIML = str(MessagingResponse())  # rendered once: every webhook answers the same


def _twiml() -> Response:
    """The webhook's answer: empty TwiML (no auto-reply; replies go through the outbound queue)."""
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _keyword(word: str) -> str:
    return re.sub(r"[\s.!]+", " ", word).strip().upper()


def _sms_keyword(rt: Runtime, number: str, body: str, opt_out_type: str = "") -> Response | None:
    """STOP/START handled here (nothing queued); None when the message goes on to the conversation.

    `opt_out_type` is Twilio's Advanced Opt-Out verdict (the webhook's OptOutType: STOP, START or
    HELP, whatever the shop's own keywords are): Twilio has already answered the customer, so we
    record the opt-out or opt-in and say nothing more, or the customer would get two answers."""
    opt_outs, word = OptOuts(rt.redis), _keyword(body)
    if opt_out_type == "STOP" or (not opt_out_type and word in STOP_WORDS):
        opt_outs.add(number)
        log.info("sms opt-out from=%s", mask(number))
        return _twiml()  # Twilio itself confirms the opt-out to the customer
    if opt_out_type == "START":
        opt_outs.remove(number)
        log.info("sms opt-in from=%s (answered by Twilio)", mask(number))
        return _twiml()
    if opt_out_type == "HELP":
        rt.redis.hincrby(redis_keys.STATS, "sms_help_answered_by_twilio", 1)
        return _twiml()
    if (word in START_WORDS or word == "YES") and opt_outs.remove(number):
        log.info("sms opt-in from=%s", mask(number))
        return _twiml()
    return None  # other texts from an opted-out number are refused by ingress (one round trip)


def _kind_and_text(body: str) -> tuple[str, str]:
    """Text wins; a message with only media or only a location gets the polite 'text only' answer."""
    if body:
        return ("text", "help") if _keyword(body) in HELP_WORDS else ("text", body)
    if form_value("Latitude") or form_value("Longitude"):
        return "location", ""
    if (form_value("NumMedia") or "0") != "0":
        return "media", ""
    return "unsupported", ""


@bp.post("/messaging")
@require_twilio_signature
def messaging() -> Response:
    rt = runtime()
    message_sid = form_value("MessageSid") or form_value("SmsSid")
    if not SID.fullmatch(message_sid):
        abort(400, description="MessageSid: missing or malformed")
    sender = form_value("From")
    channel = "whatsapp" if sender.startswith(WHATSAPP) else "sms"
    number = sender.removeprefix(WHATSAPP)
    if not E164.fullmatch(number):
        abort(400, description="From: not an E.164 phone number")
    body = form_value("Body")
    if channel == "sms":
        handled = _sms_keyword(rt, number, body, form_value("OptOutType", 16).upper())
        if handled is not None:
            return handled
    kind, text = _kind_and_text(body)
    rt.ingress.accept(InboundMessage(channel=channel, message_id=message_sid, address=number, text=text,
                                     contact=number, kind=kind),
                      refused_set=redis_keys.SMS_OPTED_OUT if channel == "sms" else None)
    return _twiml()


@bp.post("/status")
@require_twilio_signature
def delivery_status() -> tuple[str, int]:
    """Twilio's delivery report for a message we sent: failures are parked where operators see them."""
    rt = runtime()
    message_sid, status = form_value("MessageSid"), form_value("MessageStatus").lower()
    recipient = form_value("To")
    if not SID.fullmatch(message_sid) or not status:
        abort(400, description="MessageSid and MessageStatus are required")
    reply_id = request.args.get("r") or None
    if reply_id is not None and not REPLY_ID.fullmatch(reply_id):
        abort(400, description="r: not a reply id")
    if status in DELIVERY_FAILED:
        record_delivery_failure(rt, message_sid, recipient, status, form_value("ErrorCode"),
                                form_value("ErrorMessage"), reply_id)
    return "", 204


def record_delivery_failure(rt: Runtime, message_sid: str, recipient: str, status: str, code: str, message: str,
                            reply_id: str | None = None) -> None:
    """Park what the provider could not deliver (once per message: the entry's id is its sid)."""
    channel = "whatsapp" if recipient.startswith(WHATSAPP) else "sms"
    number = recipient.removeprefix(WHATSAPP)
    window_closed = code.isdigit() and int(code) in WINDOW_CLOSED_CODES
    reason = f"Twilio reported {status} (error {code or '?'}{': ' + message if message else ''})"
    if window_closed:
        reason += ": outside WhatsApp's 24-hour window, a template message is needed"
    if not rt.deadletters.add(deadletters.delivery(channel, number, message_sid, reason, reply_id),
                              f"delivery_failed:{channel}"):
        return  # Twilio reported this one before
    if window_closed:
        rt.redis.hincrby(redis_keys.STATS, "whatsapp_window_closed", 1)
    if code.isdigit() and int(code) in OPTED_OUT_CODES and channel == "sms":
        OptOuts(rt.redis).add(number)
    log.error("delivery failed channel=%s to=%s: %s", channel, mask(number), reason)


class TwilioMessagingSender:
    """Sends one channel's replies (sms or whatsapp) with the real twilio.rest.Client."""

    def __init__(self, channel: str, client: Client, from_: str, redis: Redis, status_callback: str | None = None,
                 templates: dict[str, str] | None = None) -> None:
        self.channel, self.client, self.from_, self.redis = channel, client, from_, redis
        self.status_callback = status_callback
        self.templates = dict(templates or {})  # purpose -> Content SID (WhatsApp)

    def send(self, message: OutboundMessage, part_sent: PartSent | None = None) -> None:
        """Each body of a long text in turn, from the first one not sent yet (`parts_sent`)."""
        if self.channel == "sms" and message.address in OptOuts(self.redis):
            raise RecipientUnreachable("the number opted out of SMS (texted STOP)")
        if self.channel == "whatsapp" and not self.in_window(message):
            return self._send_template(message)
        if self.channel == "sms":
            bodies = sms_text.for_sms(message.text)
        else:
            bodies = [message.text[i:i + 1600] for i in range(0, len(message.text), 1600)] or [""]
        to = (WHATSAPP if self.channel == "whatsapp" else "") + message.address
        for i in range(message.parts_sent, len(bodies)):
            self._create(to, bodies[i], message)
            if part_sent is not None and i < len(bodies) - 1:
                part_sent(i + 1)
        if self.channel == "sms":
            self.redis.hincrby(redis_keys.STATS, "sms_segments",
                               sum(sms_text.segments(b)[1] for b in bodies[message.parts_sent:]))

    def in_window(self, message: OutboundMessage, now: float | None = None) -> bool:
        """Is WhatsApp's 24-hour window open for this customer, by when they last wrote?"""
        last = seen.last_inbound(self.redis, message.recipient)
        now = time.time() if now is None else now
        return last is not None and now - last < WINDOW_SECONDS - WINDOW_MARGIN_SECONDS

    def _send_template(self, message: OutboundMessage) -> None:
        """Outside the window: the purpose's approved template, or parked with the reason (no send)."""
        last = seen.last_inbound(self.redis, message.recipient)
        since = "never wrote" if last is None else f"last wrote {(time.time() - last) / 3600:.0f} h ago"
        sid = self.templates.get(message.template)
        if not sid:
            self.redis.hincrby(redis_keys.STATS, "whatsapp_window_closed", 1)
            setting = TEMPLATE_SETTINGS.get(message.template)
            raise RecipientUnreachable(
                f"outside WhatsApp's 24-hour window (the customer {since}) and no approved template for this "
                + (f"message: set {setting}" if setting else "kind of message: it can only be sent as a reply"))
        variables = {str(k): str(v) for k, v in message.variables.items()}
        self._create(WHATSAPP + message.address, None, message, content_sid=sid,
                     content_variables=json.dumps(variables, ensure_ascii=False) if variables else None)
        self.redis.hincrby(redis_keys.STATS, f"whatsapp_templates:{message.template}", 1)
        log.info("sent as template %s (outside the 24-hour window) to=%s", message.template, mask(message.address))

    def _create(self, to: str, body: str | None, message: OutboundMessage, **content: str | None) -> None:
        extra = {"status_callback": f"{self.status_callback}?{urlencode({'r': message.reply_id})}"} \
            if self.status_callback else {}
        extra.update({k: v for k, v in content.items() if v is not None})
        if body is not None:
            extra["body"] = body
        try:
            self.client.messages.create(to=to, from_=self.from_, **extra)
        except TwilioException as exc:
            raise self._translate(exc, message) from exc
        except requests.RequestException as exc:
            raise TransientSendError(f"Twilio unreachable: {type(exc).__name__}") from exc

    def _translate(self, exc: TwilioException, message: OutboundMessage) -> Exception:
        status, code = getattr(exc, "status", None), getattr(exc, "code", None)
        said = str(getattr(exc, "msg", None) or getattr(exc, "detail", None) or exc)
        said = re.sub(r"\+?\d{8,15}", lambda m: mask(m.group()), said)  # Twilio may quote the number
        text = f"Twilio {status} error {code}: {said}"
        if code in OPTED_OUT_CODES and self.channel == "sms":
            OptOuts(self.redis).add(message.address)
            return RecipientUnreachable(f"{text} (the number opted out)")
        if code in WINDOW_CLOSED_CODES:
            self.redis.hincrby(redis_keys.STATS, "whatsapp_window_closed", 1)
            return RecipientUnreachable(f"{text} (outside WhatsApp's 24-hour window; a template message is needed)")
        if code in UNREACHABLE_CODES:
            return RecipientUnreachable(text)
        if status == 429 or code == 20429 or (isinstance(status, int) and status >= 500):
            return TransientSendError(text)
        return PermanentSendError(text)


def build_senders(settings: Settings, redis: Redis) -> dict[str, TwilioMessagingSender]:
    """The configured Twilio senders, sharing one client (its HTTP session pools connections)."""
    if not settings.TWILIO_ACCOUNT_SID:
        return {}
    client = rest_client(settings)
    callback = settings.PUBLIC_BASE_URL + STATUS_PATH if settings.PUBLIC_BASE_URL else None
    senders: dict[str, TwilioMessagingSender] = {}
    if settings.TWILIO_SMS_FROM:
        senders["sms"] = TwilioMessagingSender("sms", client, settings.TWILIO_SMS_FROM, redis, callback)
    if settings.TWILIO_WHATSAPP_FROM:
        templates = {purpose: getattr(settings, name) for purpose, name in TEMPLATE_SETTINGS.items()
                     if getattr(settings, name)}
        senders["whatsapp"] = TwilioMessagingSender("whatsapp", client, settings.TWILIO_WHATSAPP_FROM, redis, callback,
                                                    templates)
    return senders
