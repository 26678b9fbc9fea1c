"""Phone numbers: typed text to E.164, and masking for anything a person or a log may read."""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType as T

NUMBER_TYPES = {  # the names OTP_REFUSED_NUMBER_TYPES takes -> libphonenumber's types
    "premium_rate": (T.PREMIUM_RATE,), "shared_cost": (T.SHARED_COST,), "non_geographic": (T.UAN,),
    "toll_free": (T.TOLL_FREE,), "voip": (T.VOIP,), "personal": (T.PERSONAL_NUMBER,), "pager": (T.PAGER,),
    "voicemail": (T.VOICEMAIL,), "fixed_line": (T.FIXED_LINE,), "unknown": (T.UNKNOWN,),
}

# A number as it shows in text, a path or a query string: +1..., %2B1... (URL-encoded), whatsapp:+1...
IN_TEXT = re.compile(r"(\+|%2[bB])(\d{3,11})(\d{4})(?!\d)")


def normalize(raw: str, region: str = "US") -> str | None:
    """'(415) 555-2671' -> '+14155552671' for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(value: str | None) -> str:
    """Keep the last 4 digits: '+14155552671' -> '+*******2671'. Safe for logs and dashboards."""
    if not value:
        return "-"
    prefix = value[: value.index(":") + 1] if ":" in value else ""
    rest = value[len(prefix):]
    return prefix + ("*" * max(0, len(rest) - 4)) + rest[-4:]


def mask_numbers(text: str) -> str:
    """Every phone number in `text` masked as `mask` does ('GET /api/customers/%2B14155552671/export' ->
    'GET /api/customers/%2B*******2671/export'): for log lines, whatever wrote them."""
    if "+" not in text and "%2" not in text:
        return text
    return IN_TEXT.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
