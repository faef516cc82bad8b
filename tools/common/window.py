"""A start/end time window in the user's timezone: the input part the scheduling tools share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, Self

from pydantic import PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.fields import Timezone, WindowEnd, WindowStart
from tools.common.outputs import EventPage, event_page
from tools.spec import Input


class TimeWindow(Input):
    """``start``/``end`` (any accepted time form; a date means that whole day) and ``timezone``."""

    start: WindowStart
    end: WindowEnd
    timezone: Timezone = None

    _tz: str = PrivateAttr(default="UTC")
    _lo: datetime = PrivateAttr(default=datetime.min)
    _hi: datetime = PrivateAttr(default=datetime.min)

    # The longest window the tool accepts, in days (a subclass narrows it).
    max_days: ClassVar[float] = 90

    @model_validator(mode="after")
    def _window(self, info: ValidationInfo) -> Self:
        self._tz = self.timezone or (info.context or {}).get("timezone") or "UTC"
        zone = times.zone(self._tz)
        lo = times.parse_time(self.start, self._tz, "start").as_instant(zone)
        hi = times.parse_time(self.end, self._tz, "end").as_instant(zone, end_of_day=True)
        if hi <= lo:
            raise ValueError("end: must be after start")
        if (hi - lo).total_seconds() > self.max_days * 86400:
            raise ValueError(f"end: the window may be at most {self.max_days:g} days")
        self._lo, self._hi = lo.astimezone(zone), hi.astimezone(zone)
        return self


def local_days(window: tuple[str, str], tz: str | None) -> tuple[date, date]:
    """The first and last day, in ``tz``, that a Unix-second window touches."""
    zone = times.zone(tz) if tz else UTC
    return datetime.fromtimestamp(int(window[0]), zone).date(), datetime.fromtimestamp(int(window[1]) - 1, zone).date()


def dated_page(inp: object, data: dict[str, Any]) -> EventPage:
    """The page of a windowed listing without the all-day events of the days beside the window.

    An all-day event is a date, the same day in every zone, but Feishu pins it to UTC midnights: a
    window of one day in Shanghai (UTC+8) overlaps the previous date's 16:00-24:00 UTC, so "today"
    listed yesterday's holiday too (New York's listed tomorrow's). Only all-day events whose dates
    miss the window's own days are left out; a series (listed once, by its first date) stays.
    """
    days: tuple[date, date] | None = getattr(inp, "_days", None)
    items = data.get("items")
    if days is not None and items:
        first, last = days[0].isoformat(), days[1].isoformat()
        kept = [e for e in items if not _all_day_outside(e, first, last)]
        if len(kept) != len(items):
            data = {**data, "items": kept}
    return event_page(inp, data)


def _all_day_outside(event: Any, first: str, last: str) -> bool:
    if not isinstance(event, dict) or event.get("recurrence"):
        return False
    start, end = (event.get("start_time") or {}).get("date"), (event.get("end_time") or {}).get("date")
    # ISO dates compare in date order; the end date is the event's last day (sandbox/README.md).
    return bool(start and end) and (str(start) > last or str(end) < first)
