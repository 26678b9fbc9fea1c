"""Phone numbers: typed text to E.164, and masking for anything a person or a log may read."""
from __future__ import annotations

import phonenumbers


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
