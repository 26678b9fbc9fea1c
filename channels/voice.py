"""Phone calls through Twilio: `POST /webhooks/twilio/voice` and below, answered with TwiML.

Every turn of a call is a message like any other: the caller's words (SpeechResult) or keys
(Digits) go through the same ingress, queue, worker and state machine. Caller ID is easy to forge,
so it vouches for the caller's number only when the carrier attested it with SHAKEN/STIR
(`StirVerstat=TN-Validation-Passed-A`; VOICE_CALLER_ID_TRUST can widen this): then the call is
that customer's. Otherwise the call is its own identity (`voice:call-<CallSid>`, no number in it)
and the caller proves a number with a code by SMS, said or keyed in, before any name, address or
order is said and before anything can be cancelled or erased. A withheld number (Twilio's
placeholders, "anonymous") is no number at all. Voice is synchronous: the request waits, bounded by
VOICE_WAIT_SECONDS (far below Twilio's 15 s), for the worker's reply and answers it in <Say>
inside the next <Gather>. Past the bound it answers a short holding phrase and a <Redirect> to
/wait, which waits again. Each turn's number is in its action URL, so a retried request is the
same message (deduplicated on CallSid:turn). Silence reprompts twice, then says goodbye.

Routes: ""       a call comes in: greet (a new call starts at greeting; the cart is kept)
        /turn    ?n=<turn>&s=<silences so far>: what the caller said or keyed
        /wait    ?n=<turn>&h=<holds so far>: pick up a reply that took longer than the bound
        /status  the call's status callback: its end closes the call's state
"""
from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request
from twilio.twiml.voice_response import VoiceResponse

from bot.common import phones, redis_keys
from bot.common.phones import mask
from bot.config import Settings
from bot.pipeline import InboundMessage
from bot.shop.catalog import Catalog
from bot.web.current import runtime
from channels.speech import for_the_ear
from channels.twilio_common import form_value, require_twilio_signature

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("orderline.voice")

bp = Blueprint("voice", __name__, url_prefix="/webhooks/twilio/voice")

CHANNEL = "voice"
BASE_PATH = "/webhooks/twilio/voice"
CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Twilio's placeholders for a withheld caller ID: ANONYMOUS, RESTRICTED, BLOCKED, UNAVAILABLE, PRIVATE, UNKNOWN
ANONYMOUS = {"+266696687", "+7378742833", "+2562533", "+86282452253", "+7748283", "+8656696"}
ATTESTED = {"attested": ("TN-Validation-Passed-A",), "partial": ("TN-Validation-Passed-A", "TN-Validation-Passed-B")}
MAX_SILENCES = 2  # reprompts before goodbye
MAX_HOLDS = 6  # about 6 x (bound + phrase) seconds on hold, then an apology
MAX_TURNS = 1000
CALL_STATE_TTL = 4 * 3600  # Twilio ends calls after 4 hours
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
GATHER_TIMEOUT = 5  # seconds of silence before Twilio gives up listening
HINTS_MAX = 400
HINT_WORDS = ("menu", "done", "yes", "no", "cart", "help", "place an order", "order status", "cancel an order",
              "resend", "change number")
DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
               "six": "6", "seven": "7", "eight": "8", "nine": "9"}

# The call's own words: call mechanics, not the conversation (whose sentences are statemachine/prompts.py).
HOLD = "One moment, please."
STILL_HOLDING = "Still working on it."
SILENCE = "Sorry, I didn't hear anything."
GOODBYE = "I didn't hear anything, so I'll hang up now. Call us again any time. Goodbye!"
TROUBLE = "Sorry, I'm having trouble right now. Please call again in a few minutes. Goodbye."


@bp.post("")
@require_twilio_signature
def incoming() -> Response:
    rt, call = runtime(), _call_sid()
    caller = _caller()
    vouched = caller if caller and _attested(rt.settings) else None
    if rt.redis.hsetnx(redis_keys.call(call), "started", time.time()):
        with rt.redis.pipeline() as pipe:  # the first request decides; a retried one reads what it decided
            pipe.hset(redis_keys.call(call), "vouched", vouched or "")
            pipe.expire(redis_keys.call(call), CALL_STATE_TTL)
            pipe.hincrby(redis_keys.STATS, "calls_started" if vouched else "calls_started_unverified", 1)
            pipe.execute()
        log.info("call started call=%s from=%s caller_id=%s", call, mask(caller),
                 "vouched" if vouched else ("unverified" if caller else "withheld"))
    address, contact = _who(rt, call)
    message = InboundMessage(channel=CHANNEL, message_id=f"{call}:0", address=address, text="", contact=contact,
                             meta={"session_start": True, "call": call, "turn": 0, **_hint(caller, contact)})
    return _turn(rt, message, call, 0)


@bp.post("/turn")
@require_twilio_signature
def turn() -> Response:
    rt, call = runtime(), _call_sid()
    n, silences = _int_arg("n", 1, MAX_TURNS), _int_arg("s", 0, MAX_SILENCES, default=0)
    text, how = heard(form_value("SpeechResult", 500), form_value("Digits", 64))
    if not text:
        return _silence(rt, call, n, silences)
    address, contact = _who(rt, call)
    message = InboundMessage(channel=CHANNEL, message_id=f"{call}:{n}", address=address, text=text, contact=contact,
                             meta={"call": call, "turn": n, "input": how, **_hint(_caller(), contact)})
    return _turn(rt, message, call, n)


@bp.post("/wait")
@require_twilio_signature
def wait() -> Response:
    rt, call = runtime(), _call_sid()
    n, holds = _int_arg("n", 0, MAX_TURNS), _int_arg("h", 1, MAX_HOLDS)
    reply = _await(rt, f"{call}:{n}")
    if reply is not None:
        return _speak(rt, call, n, reply)
    if holds >= MAX_HOLDS:
        log.error("no reply in time; hanging up call=%s turn=%d", call, n)
        return _goodbye(TROUBLE)
    return _hold(rt, n, holds + 1)


@bp.post("/status")
@require_twilio_signature
def status() -> tuple[str, int]:
    """Twilio's call status callback: when the call ends, its state goes (turn counter, last reply)."""
    rt, call = runtime(), _call_sid()
    call_status = form_value("CallStatus").lower()
    if call_status in ENDED:  # a number proven by code during the call is not the call's any longer
        rt.mailboxes.unlink(f"{CHANNEL}:{call_identity(call)}")
    if call_status in ENDED and rt.redis.delete(redis_keys.call(call)):
        duration = form_value("CallDuration")
        with rt.redis.pipeline() as pipe:
            pipe.hincrby(redis_keys.STATS, f"calls_ended:{call_status}", 1)
            pipe.hincrby(redis_keys.STATS, "call_seconds", int(duration) if duration.isdigit() else 0)
            pipe.execute()
        log.info("call ended call=%s status=%s", call, call_status)
    return "", 204


# -- one turn -----------------------------------------------------------------------------------

def _turn(rt: Runtime, message: InboundMessage, call: str, n: int) -> Response:
    if rt.ingress.accept(message):
        rt.redis.hincrby(redis_keys.call(call), "turns", 1)
    reply = _await(rt, message.message_id)
    if reply is None:
        return _hold(rt, n, 1)
    return _speak(rt, call, n, reply)


def _await(rt: Runtime, message_id: str) -> dict | None:
    """The reply if the worker already answered (a retried request), else wait for it, bounded."""
    return rt.ingress.reply(message_id) or rt.ingress.wait_reply(message_id, rt.settings.VOICE_WAIT_SECONDS)


def _speak(rt: Runtime, call: str, n: int, reply: dict) -> Response:
    """The reply, phrased for the ear, inside the next turn's <Gather>."""
    said = " ".join(for_the_ear(r["text"]) for r in reply.get("replies", []))
    with rt.redis.pipeline() as pipe:
        pipe.hset(redis_keys.call(call), "last", said)
        pipe.expire(redis_keys.call(call), CALL_STATE_TTL)
        pipe.execute()
    return _listen(rt, said, _url("/turn", n=n + 1))


def _listen(rt: Runtime, said: str, action: str) -> Response:
    settings, response = rt.settings, VoiceResponse()
    gather = response.gather(input="speech dtmf", action=action, method="POST", language=settings.VOICE_LANGUAGE,
                             hints=speech_hints(rt.catalog.current()), speech_timeout="auto", timeout=GATHER_TIMEOUT,
                             action_on_empty_result=True)
    gather.say(said, language=settings.VOICE_LANGUAGE)
    return _twiml(response)


def _silence(rt: Runtime, call: str, n: int, silences: int) -> Response:
    if silences >= MAX_SILENCES:
        return _goodbye(GOODBYE)
    last = rt.redis.hget(redis_keys.call(call), "last")
    last = last.decode() if isinstance(last, bytes) else (last or "")
    return _listen(rt, f"{SILENCE} {last}".strip(), _url("/turn", n=n, s=silences + 1))


def _hold(rt: Runtime, n: int, holds: int) -> Response:
    response = VoiceResponse()
    response.say(HOLD if holds == 1 else STILL_HOLDING, language=rt.settings.VOICE_LANGUAGE)
    response.redirect(_url("/wait", n=n, h=holds), method="POST")
    return _twiml(response)


def _goodbye(text: str) -> Response:
    response = VoiceResponse()
    response.say(text, language=runtime().settings.VOICE_LANGUAGE)
    response.hangup()
    return _twiml(response)


# -- parsing ------------------------------------------------------------------------------------

def heard(speech: str, digits: str) -> tuple[str, str]:
    """(text, 'dtmf' | 'speech'); keys win. Spoken digits ('four one five...') become '415...'."""
    keyed = digits.strip().rstrip("#")
    if re.fullmatch(r"[0-9*]+", keyed):
        return keyed, "dtmf"
    words = re.findall(r"[\w']+", speech.lower())
    if len(words) >= 2 and all(w.isdigit() or w in DIGIT_WORDS for w in words):
        return "".join(DIGIT_WORDS.get(w, w) for w in words), "speech"
    return speech.strip(), "speech"


def speech_hints(catalog: Catalog) -> str:
    """Words the recogniser should expect: the menu's, then product names, a few hundred characters."""
    hints: list[str] = []
    seen: set[str] = set()
    names = [re.sub(r"\s*\(.*?\)", "", p.name).strip() for p in catalog]
    for word in [*HINT_WORDS, *names]:
        low = word.lower()
        if not low or low in seen:
            continue
        if len(", ".join(hints + [word])) > HINTS_MAX:
            break
        hints.append(word)
        seen.add(low)
    return ", ".join(hints)


def _call_sid() -> str:
    call = form_value("CallSid")
    if not CALL_SID.fullmatch(call):
        abort(400, description="CallSid: missing or malformed")
    return call


def _caller() -> str | None:
    """The caller ID as E.164, or None when withheld (a placeholder, a word, not a valid number)."""
    caller = form_value("From")
    if not E164.fullmatch(caller) or caller in ANONYMOUS:
        return None
    return caller if phones.normalize(caller) == caller else None


def _attested(settings: Settings) -> bool:
    """Does this call's caller ID vouch for the number (SHAKEN/STIR, as VOICE_CALLER_ID_TRUST asks)?"""
    trust = settings.VOICE_CALLER_ID_TRUST
    return trust == "any" or form_value("StirVerstat", 64) in ATTESTED[trust]


def _hint(caller: str | None, vouched: str | None) -> dict:
    """An unverified caller ID, offered a code by SMS (a forger's victim gets the code, not the forger)."""
    return {"caller_id": caller} if caller and not vouched else {}


def call_identity(call: str) -> str:
    """The address of a call whose caller ID vouches for nothing: the call itself, no number in it."""
    return f"call-{call}"


def _who(rt: Runtime, call: str) -> tuple[str, str | None]:
    """(the call's address, the number it vouches for or None), as decided when the call came in."""
    raw = rt.redis.hget(redis_keys.call(call), "vouched")
    vouched = (raw.decode() if isinstance(raw, bytes) else raw) or None
    return vouched or call_identity(call), vouched


def _int_arg(name: str, low: int, high: int, default: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, description=f"{name}: expected a number from {low} to {high}")
    return int(raw)


def _url(path: str, **query: int) -> str:
    """An absolute URL on this blueprint: the one Twilio calls next, and signs."""
    base = runtime().settings.PUBLIC_BASE_URL
    if base is None:  # never: require_twilio_signature admits no request without it
        raise RuntimeError("PUBLIC_BASE_URL is not set: Twilio's requests cannot be verified")
    return base + BASE_PATH + path + "?" + urlencode(query)


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")
