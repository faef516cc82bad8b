"""Time inputs a person or a model can write, converted to Feishu's wire forms.

Accepted everywhere a time is asked for:
- RFC 3339 with an offset: ``2026-11-23T15:00:00+08:00`` (or ``Z``);
- a naive local time plus an IANA ``timezone``: ``2026-11-23T15:00`` / ``2026-11-23 15:00``;
- a date (``2026-11-23``): an all-day event, or 00:00 of that day in a time window;
- Unix seconds (``1795417200``, as a number or a digit string).

Feishu wants three different forms: ``time_info`` objects with *string* timestamps for
events, Unix-second strings for list/instances/instance_view windows, and RFC 3339 for the
meeting-room free/busy API. This module is the one place that knows all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Feishu's documented timestamp range for time_info (calendar-event/introduction.md).
MAX_TIMESTAMP = 16725225600
# Dates whose whole day, in any zone (UTC-12..UTC+14), lies inside that range: a window's end
# date means the next midnight, and date arithmetic past 9999-12-31 is an OverflowError.
FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(2499, 12, 30)
# ASCII digits only: Python's \d and int() also read other scripts' digits (Arabic-Indic, Devanagari, fullwidth), which
# no Feishu form carries.
_UNIX_RE = re.compile(r"^[0-9]{1,11}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

TIME_FORMS = (
    "RFC 3339 with offset (2026-11-23T15:00:00+08:00), local time plus `timezone` "
    "(2026-11-23T15:00), a date (2026-11-23) or Unix seconds"
)


class TimeInputError(ValueError):
    """A time value that none of the accepted forms can read."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; a ValueError names the rule when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name the OS cannot open
        raise TimeInputError(f"timezone: unknown IANA zone {name!r} (e.g. Asia/Shanghai, Europe/London)") from exc


@dataclass(frozen=True)
class ParsedTime:
    """Either an instant (aware datetime) or a calendar date (all-day)."""

    instant: datetime | None = None
    day: date | None = None

    @property
    def is_all_day(self) -> bool:
        return self.day is not None

    def as_instant(self, tz: ZoneInfo | None, *, end_of_day: bool = False) -> datetime:
        """The instant this time stands for; a date means 00:00 of it (or of the next day)."""
        if self.instant is not None:
            return self.instant
        assert self.day is not None
        start = datetime(self.day.year, self.day.month, self.day.day, tzinfo=tz or UTC)
        return start + timedelta(days=1) if end_of_day else start


def parse_time(value: Any, timezone: str | None, field: str = "") -> ParsedTime:
    """Read one time input; ``timezone`` (IANA) gives naive local times their zone.

    ``field`` names the input in the error, so the model learns which argument to fix.
    """
    try:
        return _parse_time(value, timezone)
    except TimeInputError as exc:
        raise TimeInputError(f"{field}: {exc}" if field else str(exc)) from None


def _parse_time(value: Any, timezone: str | None) -> ParsedTime:
    if isinstance(value, bool):
        raise TimeInputError(f"expected a time, got {value!r}; use {TIME_FORMS}")
    if isinstance(value, int | float):
        return ParsedTime(instant=_from_unix(int(value)))
    if not isinstance(value, str) or not value.strip():
        raise TimeInputError(f"expected a time; use {TIME_FORMS}")
    text = value.strip()
    if _UNIX_RE.match(text):
        return ParsedTime(instant=_from_unix(int(text)))
    if _DATE_RE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise TimeInputError(f"{text!r} is not a real date") from exc
        if not FIRST_DAY <= day <= LAST_DAY:
            raise TimeInputError(f"date out of Feishu's range ({FIRST_DAY}..{LAST_DAY})")
        return ParsedTime(day=day)
    if not text.isascii():
        raise TimeInputError(f"cannot read {text!r} as a time (ASCII digits only); use {TIME_FORMS}")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise TimeInputError(f"cannot read {text!r} as a time; use {TIME_FORMS}") from exc
    if parsed.tzinfo is None:
        if not timezone:
            raise TimeInputError(f"{text!r} has no UTC offset: add one (+08:00) or pass `timezone` (IANA name)")
        parsed = _local(parsed, timezone)
    try:
        seconds = int(parsed.timestamp())
    except (OverflowError, ValueError):  # past year 9999 once converted to UTC
        seconds = MAX_TIMESTAMP + 1
    _check_range(seconds)
    return ParsedTime(instant=parsed)


def _local(naive: datetime, timezone: str) -> datetime:
    """``naive`` as a wall-clock time of ``timezone``, refused when the clocks skip it.

    In a daylight-saving gap (02:30 on the night Berlin goes from 02:00 to 03:00) zoneinfo reads
    the time with the old offset, which is the instant of 03:30: a meeting 02:30-03:30 would reach
    Feishu as start == end and come back as 190002 "end_time must be after start_time", which
    names neither the cause nor the fix. An hour the clocks skip is refused here instead.
    """
    tz = zone(timezone)
    aware = naive.replace(tzinfo=tz)
    wall = aware.astimezone(UTC).astimezone(tz)
    if wall.replace(tzinfo=None) != naive.replace(tzinfo=None):
        spec = "seconds" if naive.second else "minutes"
        raise TimeInputError(
            f"{naive.isoformat(timespec=spec)} does not exist in {timezone}: the clocks skip that hour (a daylight "
            f"saving change); use {wall.isoformat(timespec=spec)} (the instant it would mean) or another time"
        )
    return aware


def _from_unix(seconds: int) -> datetime:
    _check_range(seconds)
    return datetime.fromtimestamp(seconds, tz=UTC)


def _check_range(seconds: int) -> None:
    if not 1 <= seconds <= MAX_TIMESTAMP:
        raise TimeInputError(f"time out of Feishu's range (Unix seconds 1..{MAX_TIMESTAMP})")


def unix_seconds(moment: datetime) -> str:
    """Feishu's window form: Unix seconds as a string."""
    return str(int(moment.timestamp()))


def time_info(parsed: ParsedTime, timezone: str | None) -> dict[str, str]:
    """Feishu's ``time_info`` for an event boundary (all-day events are always UTC dates)."""
    if parsed.day is not None:
        return {"date": parsed.day.isoformat()}
    assert parsed.instant is not None
    info = {"timestamp": unix_seconds(parsed.instant)}
    if timezone:
        info["timezone"] = timezone
    return info


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with an explicit offset, seconds precision."""
    return moment.isoformat(timespec="seconds")


def render_time_info(info: Any) -> str | None:
    """An RFC 3339 rendering of a Feishu ``time_info`` in its own timezone (date for all-day)."""
    if not isinstance(info, dict):
        return None
    if info.get("date"):
        return str(info["date"])
    stamp = info.get("timestamp")
    if stamp is None:
        return None
    return _render_instant(str(stamp), str(info.get("timezone") or "UTC"))


@lru_cache(maxsize=4096)
def _render_instant(stamp: str, zone: str) -> str | None:
    """Cached: a page renders two boundaries per event, and pages are read again and again.

    4096 holds the 2,000 instants of Feishu's largest page (1,000 events) with room to spare; at
    1024 such a page evicted its own entries in order and never hit (about 5 ms a page), for about
    1 MiB more at most."""
    if not stamp.lstrip("-").isdigit():
        return None
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return rfc3339(datetime.fromtimestamp(int(stamp), tz=tz))
