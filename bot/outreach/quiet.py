"""Quiet hours (the QUIET_HOURS setting, in the shop's local time): nothing the shop sends first
goes out inside them; it waits for their end."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True)
class QuietHours:
    start: int  # minutes after local midnight
    end: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, setting: str, zone: ZoneInfo) -> QuietHours | None:
        """'21:00-08:00' (may cross midnight) or 'off' (None). The setting was validated at start."""
        if not setting or setting == "off":
            return None
        a, b = setting.split("-")
        return cls(_minutes(a), _minutes(b), zone)

    @classmethod
    def of(cls, rt: Runtime) -> QuietHours | None:
        return cls.parse(rt.settings.QUIET_HOURS, rt.shop.current().zone)

    def active(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, self.zone)
        m = local.hour * 60 + local.minute
        return self.start <= m < self.end if self.start < self.end else (m >= self.start or m < self.end)

    def ends(self, now: float) -> float:
        """When the quiet hours around `now` end (epoch seconds); `now` itself outside them."""
        if not self.active(now):
            return now
        local = datetime.fromtimestamp(now, self.zone)
        end = local.replace(hour=self.end // 60, minute=self.end % 60, second=0, microsecond=0)
        if end <= local:
            end = (end.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=self.zone)
        return end.timestamp()


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def in_quiet_hours(rt: Runtime, now: float) -> bool:
    quiet = QuietHours.of(rt)
    return bool(quiet and quiet.active(now))
