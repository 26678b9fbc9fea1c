"""One-time codes through Twilio Verify (TWILIO_VERIFY_SERVICE_SID), with the twilio SDK.

Verify makes the code, texts it and checks it: the code is never seen here, so it cannot leak
into a log, the history or a dead letter. bot/customers/codes.py still applies the shop's policy (countries,
number types, caps, budget) before every send. Verify's own rules (as documented): a pending
verification lives 10 minutes and re-sending reuses it; 5 sends (60203) and 5 checks (60202) per
verification; a check after approval, expiry or cancellation is 404 (20404); a wrong code is a 200
whose status stays `pending`. Errors that say the number is unusable (60200 invalid, 60205 a
landline for SMS, 60410 blocked as fraud, 60605 geo permissions, 21211/21408/21612/21614) refuse the
number; 429s, 5xx and the network are 'unavailable' (the customer may try again later).
"""
from __future__ import annotations

import logging
import re

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from bot.common.phones import mask
from bot.config import Settings
from channels.twilio_common import rest_client

log = logging.getLogger("orderline.twilio.verify")

REJECTED = {60200, 60205, 60410, 60605, 21211, 21408, 21612, 21614}  # this number can't get a code
TOO_MANY_SENDS = {60203}
TOO_MANY_CHECKS = {60202}
NOT_FOUND = {20404}  # no pending verification: expired, approved already, or never sent


class VerifyCodes:
    mode = "provider"

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        client = client or rest_client(settings)
        self.service = client.verify.v2.services(settings.TWILIO_VERIFY_SERVICE_SID)

    def send(self, phone: str, code: str, reply_id: str) -> tuple[str | None, None]:
        """Ask Verify to text a code to `phone` (`code` is the conversation's, unused: Verify makes its own)."""
        try:
            self.service.verifications.create(to=phone, channel="sms")
        except TwilioRestException as exc:
            return self._refusal(exc, "send"), None
        except (TwilioException, requests.RequestException) as exc:
            log.warning("Twilio Verify unreachable (%s)", type(exc).__name__)
            return "unavailable", None
        return None, None

    def check(self, phone: str, code: str) -> str:
        try:
            result = self.service.verification_checks.create(to=phone, code=code)
        except TwilioRestException as exc:
            if exc.code in NOT_FOUND or exc.status == 404:
                return "expired"
            if exc.code in TOO_MANY_CHECKS:
                return "too_many"
            if exc.code == 60200:  # not a code Verify could have sent (length, characters)
                return "wrong"
            self._refusal(exc, "check")
            return "unavailable"
        except (TwilioException, requests.RequestException) as exc:
            log.warning("Twilio Verify unreachable (%s)", type(exc).__name__)
            return "unavailable"
        if result.status == "approved":
            return "approved"
        return "wrong" if result.status == "pending" else "expired"

    @staticmethod
    def _refusal(exc: TwilioRestException, what: str) -> str:
        said = re.sub(r"\+?\d{8,15}", lambda m: mask(m.group()), str(exc.msg or ""))  # it may quote the number
        log.warning("Twilio Verify refused a %s: HTTP %s error %s: %s", what, exc.status, exc.code, said)
        if exc.code in REJECTED:
            return "rejected"
        if exc.code in TOO_MANY_SENDS:
            return "number_cap"
        return "unavailable"
