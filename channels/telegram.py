"""Telegram: `POST /webhooks/telegram` (python-telegram-bot's Update) and the sender (its Bot).

In: the secret header must match TELEGRAM_WEBHOOK_SECRET (constant time) -> the Update is
parsed -> ingress.accept, deduplicated on update_id. Only private chats are served. What a
person would expect silence for gets none of our words (edited messages, channel posts, group
chats, service messages); stickers, photos, voice notes, locations, polls get the polite "text
only" answer, unless they carry a caption, which is read as the message. A shared contact vouches
for a phone only when it is the sender's own.

Out: one long-lived Bot and ONE asyncio loop per process, in a background thread: a new Bot or
`asyncio.run` per message costs ~77 ms, and one Bot reused across `asyncio.run` calls fails
intermittently. Menus become reply keyboards; texts over 4096 characters are split; RetryAfter is
honoured; a chat that blocked the bot is recorded and not tried again.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import logging
import os
import re
import threading
import warnings
from collections.abc import Coroutine
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, jsonify, request
from redis import Redis
from telegram import Bot, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.common import phones, redis_keys
from bot.common.errors import PermanentSendError, RecipientUnreachable, TransientSendError
from bot.common.phones import mask
from bot.config import Settings
from bot.pipeline import InboundMessage, OutboundMessage
from bot.web.bearer import token_matches
from bot.web.current import runtime
from channels.base import PartSent

log = logging.getLogger("orderline.telegram")

bp = Blueprint("telegram", __name__, url_prefix="/webhooks")

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ["message", "my_chat_member"]  # what set-webhook asks Telegram to deliver
SHARE_PHONE = "Share my phone number"  # the button's label (Telegram shows it on the keyboard)
MAX_TEXT = 4096
SEND_TIMEOUT_SECONDS = 30
COMMANDS = {"start", "help", "menu"}
MEDIA = ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation", "paid_media", "story")
T = TypeVar("T")


# -- in ---------------------------------------------------------------------------------------

@bp.post("/telegram")
def webhook() -> Response:
    rt = runtime()
    given = request.headers.get(SECRET_HEADER)
    if not given:
        abort(403, description=f"missing {SECRET_HEADER}")
    if not token_matches(given, rt.settings.TELEGRAM_WEBHOOK_SECRET):
        log.warning("refused a Telegram webhook with a wrong secret")
        abort(403, description=f"{SECRET_HEADER} does not match")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        abort(400, description="body must be a Telegram Update (a JSON object with an integer update_id)")
    if not well_formed_text(data):
        abort(400, description="not a Telegram Update: a string holds a lone surrogate (not UTF-8)")
    try:
        update = Update.de_json(data, None)
        message = parse(update)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        abort(400, description=f"not a Telegram Update: {type(exc).__name__}")
    _track_block(rt.redis, update)
    if message is not None:
        rt.redis.srem(redis_keys.TELEGRAM_BLOCKED, message.address)  # writing again: they unblocked us
        rt.ingress.accept(message)
    return jsonify(ok=True)


def well_formed_text(data: object) -> bool:
    """Every string in the JSON (keys too) is valid UTF-8: Telegram never sends a lone surrogate."""
    stack: list[object] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def parse(update: Update) -> InboundMessage | None:
    """The customer's message in this Update, or None where silence is the right answer. Raises
    ValueError for what Telegram would never send (a text that is not a string, say)."""
    msg = update.message  # edited_message, channel_post, callback_query...: nothing to answer
    if msg is None or msg.chat.type != "private" or msg.from_user is None or msg.from_user.is_bot:
        return None
    if msg.text is not None and not isinstance(msg.text, str):
        raise ValueError("message.text must be a string")
    said = functools.partial(InboundMessage, channel=CHANNEL, message_id=str(update.update_id),
                             address=str(msg.chat.id))
    if msg.contact is not None:
        own = msg.contact.user_id is not None and msg.contact.user_id == msg.from_user.id
        phone = phones.normalize("+" + re.sub(r"\D", "", msg.contact.phone_number or "")) if own else None
        return said(text="", contact=phone, kind="contact")
    if msg.text:
        return said(text=_command(msg.text))
    if msg.caption and msg.caption.strip():  # a photo (of a list, a product) with words: the words are read
        return said(text=_command(msg.caption))
    if msg.location is not None or msg.venue is not None:
        return said(text="", kind="location")
    if any(getattr(msg, name, None) for name in MEDIA):
        return said(text="", kind="media")
    if msg.effective_attachment is not None:  # a poll, dice, game, invoice...
        return said(text="", kind="unsupported")
    return None  # a service message (pinned, joined...): nobody is waiting for an answer


def _command(text: str) -> str:
    """'/start@OrderlineBot payload' -> '/start'; the conversation knows /start, /help and /menu."""
    m = re.match(r"^/(\w+)(?:@\w+)?(?:\s|$)", text)
    return f"/{m.group(1).lower()}" if m and m.group(1).lower() in COMMANDS else text


def _track_block(redis: Redis, update: Update) -> None:
    """Telegram tells us when a user blocks (kicked) or unblocks (member) the bot."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    chat = str(change.chat.id)
    if change.new_chat_member.status == "kicked":
        redis.sadd(redis_keys.TELEGRAM_BLOCKED, chat)
        log.info("telegram chat blocked the bot chat=%s", mask(chat))
    elif change.new_chat_member.status == "member":
        redis.srem(redis_keys.TELEGRAM_BLOCKED, chat)


# -- out --------------------------------------------------------------------------------------

class LoopStopped(RuntimeError):
    """A call reached the loop after it was stopped (the sender is closing)."""


class LoopThread:
    """One asyncio event loop running forever in a daemon thread; coroutines are submitted to it.

    Started on first use, and again in a forked child (a loop does not survive fork)."""

    def __init__(self, name: str = "telegram-loop") -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def ensure(self) -> bool:
        """Start the loop if needed; True if a new one was started."""
        with self._lock:
            if self.loop is not None and self._pid == os.getpid():
                return False
            self.loop, self._pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=self.loop.run_forever, name=self.name, daemon=True).start()
            return True

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """The coroutine's result, run on the loop; raises TimeoutError (and cancels it) past `timeout`."""
        loop = self.loop
        if loop is None:  # stopped: the caller must ensure() a loop first
            coro.close()
            raise LoopStopped(f"{self.name}: no event loop running")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        with self._lock:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.loop = None


class TelegramSender:
    channel = CHANNEL

    def __init__(self, token: str, base_url: str, redis: Redis) -> None:
        self.token, self.base_url, self.redis = token, base_url, redis
        self.loop = LoopThread()
        self.bot: Bot | None = None
        self._lock = threading.Lock()

    def _bot(self) -> Bot:
        with self._lock:
            if self.loop.ensure() or self.bot is None:  # first use, or a new loop after a fork
                request_ = HTTPXRequest(connection_pool_size=4, connect_timeout=5, read_timeout=15,
                                        write_timeout=15, pool_timeout=5)
                self.bot = Bot(self.token, base_url=self.base_url, request=request_)
            return self.bot

    def send(self, message: OutboundMessage, part_sent: PartSent | None = None) -> None:
        """Each part of a long text in turn, from the first one not sent yet (`parts_sent`)."""
        if self.redis.sismember(redis_keys.TELEGRAM_BLOCKED, message.address):
            raise RecipientUnreachable("the chat blocked the bot")
        try:
            chat_id = int(message.address)
        except ValueError:
            raise PermanentSendError(f"not a Telegram chat id: {message.address!r}") from None
        bot, parts = self._bot(), split_text(message.text)
        for i in range(message.parts_sent, len(parts)):
            markup = keyboard(message) if i == len(parts) - 1 else None
            self._call(bot.send_message(chat_id=chat_id, text=parts[i], reply_markup=markup), message)
            if part_sent is not None and i < len(parts) - 1:
                part_sent(i + 1)

    def _call(self, coro: Coroutine[Any, Any, T], message: OutboundMessage) -> T:
        """Run one Bot API call on the loop; translate Telegram's errors into Orderline's."""
        try:
            return self.loop.run(coro, SEND_TIMEOUT_SECONDS)
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            raise TransientSendError(f"Telegram flood control: {self._reason(exc)}", retry_after=seconds) from exc
        except Forbidden as exc:
            with self.redis.pipeline() as pipe:
                pipe.sadd(redis_keys.TELEGRAM_BLOCKED, message.address)
                pipe.hincrby(redis_keys.STATS, "telegram_blocked", 1)
                pipe.execute()
            raise RecipientUnreachable(f"Telegram refused: {self._reason(exc)}") from exc
        except BadRequest as exc:  # a NetworkError subclass, but retrying the same request cannot help
            raise PermanentSendError(f"Telegram bad request: {self._reason(exc)}") from exc
        except NetworkError as exc:  # TimedOut included
            raise TransientSendError(f"Telegram unreachable: {self._reason(exc)}") from exc
        except TelegramError as exc:  # InvalidToken, ChatMigrated, ...
            raise PermanentSendError(f"Telegram error {type(exc).__name__}: {self._reason(exc)}") from exc
        except concurrent.futures.TimeoutError as exc:
            raise TransientSendError(f"Telegram call took over {SEND_TIMEOUT_SECONDS}s") from exc
        except LoopStopped as exc:  # closing while a delivery still ran: another process sends it later
            raise TransientSendError("Telegram sender closed during the call") from exc

    def _reason(self, exc: Exception) -> str:
        """The error's text for logs and dead letters, never with the bot token in it."""
        return str(exc).replace(self.token, "<token>")

    def close(self) -> None:
        self.loop.stop()


def keyboard(message: OutboundMessage) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Choices as a reply keyboard; a phone request as Telegram's own share-contact button;
    no choices: take the last keyboard away, so buttons show only while they mean something."""
    if message.request_phone:
        return ReplyKeyboardMarkup([[KeyboardButton(SHARE_PHONE, request_contact=True)]], resize_keyboard=True,
                                   one_time_keyboard=True)
    if message.buttons:
        short = len(message.buttons) <= 3 and all(len(b) <= 12 for b in message.buttons)
        rows = [list(message.buttons)] if short else [[b] for b in message.buttons]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    return ReplyKeyboardRemove()


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram takes 4096 characters per message: cut at line ends, else at spaces, else anywhere."""
    parts, rest = [], text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    return parts + [rest] if rest or not parts else parts


def set_webhook(settings: Settings) -> str:
    """Register PUBLIC_BASE_URL/webhooks/telegram with Telegram, with the secret; returns the URL."""
    token, base_url = settings.TELEGRAM_BOT_TOKEN, settings.PUBLIC_BASE_URL
    if not token or not base_url:
        raise ValueError("set TELEGRAM_BOT_TOKEN and PUBLIC_BASE_URL first")
    url = base_url + WEBHOOK_PATH

    async def register() -> None:
        async with Bot(token, base_url=settings.TELEGRAM_API_URL) as bot:
            await bot.set_webhook(url=url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                                  allowed_updates=ALLOWED_UPDATES)

    asyncio.run(register())
    return url
