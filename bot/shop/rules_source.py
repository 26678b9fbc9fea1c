"""The shop's own rules, from one file (SHOP_FILE, default bot/data/shop.yaml), validated.

At start a broken file stops Orderline with a message naming the field (like a bad setting).
While running, every turn asks `ShopSource.current()`, which notices an edited file (a stat per
call) and switches to it once it validates; a broken edit keeps the last good rules and logs
why. The FAQ's entries about these rules are generated from the same rules (faq.py), so what
the bot says and what checkout does cannot disagree.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.config import Settings
from bot.shop.rules_schema import ShopFile
from statemachine.rules import ONLINE, ShopRules

log = logging.getLogger("orderline.shop")


class ShopFileError(ValueError):
    """The shop file is missing, not YAML, or breaks a rule; the message says where."""


def default_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "shop.yaml"


def overrides_from(settings: Settings) -> dict:
    """Settings that win over the file (each unset by default)."""
    return {"minimum": settings.MIN_ORDER_CENTS, "fee": settings.DELIVERY_FEE_CENTS,
            "free_over": settings.FREE_DELIVERY_OVER_CENTS}


def parse_rules(text: str, where: str = "shop file", overrides: dict | None = None,
                online_ready: bool = True) -> ShopRules:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ShopFileError(f"{where}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        shop = ShopFile.model_validate(doc or {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            at = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{at}: {msg}" if at else msg)
        raise ShopFileError(f"{where} is invalid: " + "; ".join(problems)) from None
    rules = shop.rules(overrides)
    if ONLINE in rules.payment_methods and not online_ready:
        raise ShopFileError(f"{where}: payment method 'online' needs the STRIPE_SECRET_KEY and "
                            "STRIPE_WEBHOOK_SECRET settings")
    return rules


def load_rules(settings: Settings) -> ShopRules:
    path = Path(settings.SHOP_FILE) if settings.SHOP_FILE else default_path()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ShopFileError(f"SHOP_FILE {path}: cannot be read ({exc.strerror or exc})") from None
    return parse_rules(text, str(path), overrides_from(settings), online_ready=stripe_ready(settings))


def stripe_ready(settings: Settings) -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


class ShopSource:
    """The process's current rules; re-read when the file changes (checked at every call)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = Path(settings.SHOP_FILE) if settings.SHOP_FILE else default_path()
        self._lock = threading.Lock()
        self._seen = self._stamp()
        self._rules = load_rules(settings)  # raises ShopFileError: start-up stops with the reason

    def _stamp(self):
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> ShopRules:
        """The rules as the file is now. The stamp is recorded only once its rules are in place: a
        lane asking while another reloads waits on the lock, instead of seeing the new stamp and
        being handed the rules from before the edit."""
        stamp = self._stamp()
        if stamp is not None and stamp != self._seen:
            with self._lock:
                if stamp != self._seen:
                    try:
                        self._rules = load_rules(self.settings)
                        log.info("shop rules reloaded from %s", self.path)
                    except ShopFileError as exc:
                        log.error("shop file edited but refused, keeping the previous rules: %s", exc)
                    finally:
                        self._seen = stamp
        return self._rules
