"""Named tokens: each integrator and each operator gets their own secret, so the audit log says who
acted and one integrator can be held to less than another.

Settings `API_TOKENS` and `OPERATOR_TOKENS` list "name=token" pairs, comma-separated. An
integrator's name may carry a restriction after a colon:

    API_TOKENS="app=3b8f...,callcentre:code=91ac...,partner:vouch=7d2e..."

- (none)  the integrator may vouch for a phone (`phone` in /api/chat) or leave it out, and then its
          customer proves a typed number with a one-time code;
- `vouch` it must vouch for a phone on every message: it can never make the shop send a code;
- `code`  it may not vouch: every customer proves their number with a code.

The single `API_TOKEN` / `OPERATOR_TOKEN` settings still work: they are the token named "default".
`python -m bot.common.tokens NAME` prints a fresh "name=token" pair to paste into a setting; revoking a
token is removing its pair (and restarting).
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings  # which reads its tokens with parse_tokens


NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SECRET = re.compile(r"[A-Za-z0-9._~+/=-]{16,256}")
MODES = ("any", "vouch", "code")
DEFAULT = "default"


@dataclass(frozen=True)
class NamedToken:
    name: str
    secret: str = field(repr=False)
    mode: str = "any"  # integrators only: any | vouch | code

    @property
    def digest(self) -> bytes:
        """What requests are compared against (equal lengths: the comparison says nothing of the length)."""
        return hashlib.sha256(self.secret.encode()).digest()

    @property
    def may_vouch(self) -> bool:
        return self.mode != "code"

    @property
    def must_vouch(self) -> bool:
        return self.mode == "vouch"


def parse_tokens(setting: str, raw: str) -> tuple[NamedToken, ...]:
    """'a=tok1, b:code=tok2' -> tokens; raises ValueError naming the setting and the bad pair (never
    quoting a secret)."""
    out: list[NamedToken] = []
    for n, pair in enumerate((p.strip() for p in raw.split(",")), 1):
        if not pair:
            continue
        label, sep, secret = pair.partition("=")
        name, _, mode = label.strip().partition(":")
        mode = mode or "any"
        if not sep or not NAME.fullmatch(name):
            raise ValueError(f"{setting}: entry {n} must be name=token with a name of a-z, 0-9, _ and -")
        if mode not in MODES or (mode != "any" and setting != "API_TOKENS"):
            allowed = "':vouch' or ':code'" if setting == "API_TOKENS" else "no restriction"
            raise ValueError(f"{setting}: {name!r} has an unknown restriction {mode!r} ({allowed} allowed)")
        if not SECRET.fullmatch(secret.strip()):
            raise ValueError(f"{setting}: the token named {name!r} must be 16 to 256 characters of "
                             "A-Z, a-z, 0-9 and . _ ~ + / = -")
        out.append(NamedToken(name, secret.strip(), mode))
    names = [t.name for t in out]
    if len(set(names)) != len(names) or DEFAULT in names:
        raise ValueError(f"{setting}: each name must appear once, and 'default' is the single token's name")
    if len({t.secret for t in out}) != len(out):
        raise ValueError(f"{setting}: two names share one token; give each its own")
    return tuple(out)


def of_role(settings: Settings, setting_name: str) -> tuple[NamedToken, ...]:
    """Every token of a role ("API_TOKEN" for integrators, "OPERATOR_TOKEN" for operators)."""
    single = getattr(settings, setting_name)
    named = getattr(settings, setting_name + "S", ())
    return ((NamedToken(DEFAULT, single),) if single else ()) + tuple(named)


def new_pair(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError("a name is a-z, 0-9, _ and - (up to 32)")
    return f"{name}={secrets.token_urlsafe(24)}"


if __name__ == "__main__":  # python -m bot.common.tokens NAME
    if len(sys.argv) != 2:
        print("usage: python -m bot.common.tokens NAME   (prints name=token to add to API_TOKENS or OPERATOR_TOKENS)",
              file=sys.stderr)
        sys.exit(2)
    try:
        print(new_pair(sys.argv[1]))
    except ValueError as exc:
        print(f"orderline: {exc}", file=sys.stderr)
        sys.exit(2)
