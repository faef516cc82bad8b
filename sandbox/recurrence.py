"""Event times on the wire and recurrence expansion (RFC 5545 RRULE through dateutil).

A ``time_info`` is ``{timestamp, timezone}`` or, for all-day events, ``{date}`` (always UTC).
All-day end dates are inclusive, as the server's tools send them: an event on one day has
``start.date == end.date``, so the instant it ends is the next midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from sandbox.state import Event, TimeInfo
from sandbox.wire import FeishuFault, invalid

MAX_TIMESTAMP = 16725225600
RFC3339_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
DAY = 86400
ROOM_SERIES_LIMIT = 2 * 365 * DAY


def parse_time_info(name: str, raw: Any) -> TimeInfo:
    """A request's time_info, or Feishu's invalid-parameter reply naming ``name``."""
    if not isinstance(raw, dict):
        raise invalid(name, raw, "must be an object with date or timestamp")
    date, timestamp = raw.get("date"), raw.get("timestamp")
    timezone = raw.get("timezone") or "Asia/Shanghai"
    if (date is None) == (timestamp is None) or (date == "" and timestamp == ""):
        raise invalid(name, raw, "exactly one of date and timestamp is required")
    if not isinstance(timezone, str) or not _known_zone(timezone):
        raise invalid(f"{name}.timezone", timezone, "must be an IANA time zone name")
    if date is not None:
        # fromisoformat alone also takes "20261123" and "2026-W48-1", which RFC 3339 does not.
        if not isinstance(date, str) or not RFC3339_DATE.fullmatch(date):
            raise invalid(f"{name}.date", date, "must be YYYY-MM-DD")
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise invalid(f"{name}.date", date, "must be YYYY-MM-DD") from None
        return TimeInfo(date=date, timezone="UTC")
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        raise invalid(f"{name}.timestamp", timestamp, "must be Unix seconds as a string")
    seconds = int(timestamp)
    if not 1 <= seconds <= MAX_TIMESTAMP:
        raise invalid(f"{name}.timestamp", timestamp, f"must be between 1 and {MAX_TIMESTAMP}")
    return TimeInfo(timestamp=seconds, timezone=timezone)


def time_info_json(info: TimeInfo) -> dict[str, str]:
    if info.date is not None:
        return {"date": info.date, "timezone": "UTC"}
    return {"timestamp": str(info.timestamp), "timezone": info.timezone}


def instant(info: TimeInfo, *, is_end: bool = False) -> int:
    """Unix seconds; an all-day end date means the midnight after it."""
    if info.date is not None:
        day = dt.date.fromisoformat(info.date)
        start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
        return start + DAY if is_end else start
    assert info.timestamp is not None  # parse_time_info guarantees one of the two
    return info.timestamp


def span(event: Event) -> tuple[int, int]:
    return instant(event.start), instant(event.end, is_end=True)


def check_recurrence(rule: str, field: str = "recurrence") -> None:
    if len(rule) > 2000:
        raise invalid(field, rule[:50], "at most 2000 characters")
    parts = rule_parts(rule)
    if "COUNT" in parts and "UNTIL" in parts:
        raise invalid(field, rule, "COUNT and UNTIL cannot both be present")
    if "FREQ" not in parts:
        raise invalid(field, rule, "FREQ is required")
    try:
        _rule(rule, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except (ValueError, TypeError) as exc:
        raise invalid(field, rule, f"not a valid RRULE: {exc}") from None


def rule_parts(rule: str) -> set[str]:
    """The rule's part names, upper case (``FREQ``, ``UNTIL``, ...)."""
    return {p.split("=", 1)[0].upper() for p in rule.removeprefix("RRULE:").split(";") if p}


def starts(rule: str, first: int, zone: ZoneInfo, before: int) -> list[int]:
    """The starts of ``rule`` from ``first`` (its DTSTART, in ``zone``'s wall clock) up to ``before``."""
    series = _rule(rule, dt.datetime.fromtimestamp(first, zone))
    found = []
    for moment in series.xafter(dt.datetime.fromtimestamp(first, zone), inc=True):
        start = int(moment.timestamp())
        if start >= before:
            break
        found.append(start)
    return found


@dataclass(frozen=True)
class Occurrence:
    original_time: int  # the occurrence's start as the series defines it
    start: int
    end: int


def occurrences(master: Event, lo: int, hi: int) -> list[Occurrence]:
    """The series' occurrences overlapping [lo, hi), before exceptions are applied.

    Expanded in the event's own time zone, so a weekly 10:00 stays 10:00 across DST changes.
    """
    first_start, first_end = span(master)
    duration = first_end - first_start
    if not master.recurrence:
        return [Occurrence(0, first_start, first_end)] if first_start < hi and first_end > lo else []
    zone = ZoneInfo("UTC" if master.start.date is not None else master.start.timezone)
    dtstart = dt.datetime.fromtimestamp(first_start, zone)
    rule = _rule(master.recurrence, dtstart)
    window_lo = dt.datetime.fromtimestamp(max(lo - duration, first_start), zone)
    window_hi = dt.datetime.fromtimestamp(hi, zone)
    found = []
    for moment in rule.between(window_lo, window_hi, inc=True):
        start = int(moment.timestamp())
        if start < hi and start + duration > lo:
            found.append(Occurrence(start, start, start + duration))
    return found


def overlaps(master: Event, lo: int, hi: int) -> bool:
    """Whether any occurrence overlaps [lo, hi): lazily, so an open-ended window stays cheap."""
    first_start, first_end = span(master)
    duration = first_end - first_start
    if not master.recurrence:
        return first_start < hi and first_end > lo
    zone = ZoneInfo("UTC" if master.start.date is not None else master.start.timezone)
    rule = _rule(master.recurrence, dt.datetime.fromtimestamp(first_start, zone))
    for moment in rule.xafter(dt.datetime.fromtimestamp(max(lo - duration, first_start), zone), inc=True):
        start = int(moment.timestamp())
        if start >= hi:
            return False
        if start + duration > lo:
            return True
    return False


def books_rooms_too_long(event: Event) -> bool:
    """A series booking a meeting room may span at most 2 years (feishu-api.md §2.2, recurrence)."""
    if not event.recurrence or not any(
        a.type == "resource" and a.rsvp_status not in ("decline", "removed") for a in event.attendees
    ):
        return False
    first_start = span(event)[0]
    zone = ZoneInfo("UTC" if event.start.date is not None else event.start.timezone)
    rule = _rule(event.recurrence, dt.datetime.fromtimestamp(first_start, zone))
    return rule.after(dt.datetime.fromtimestamp(first_start + ROOM_SERIES_LIMIT, zone)) is not None


def is_occurrence(master: Event, original_time: int) -> bool:
    return any(o.original_time == original_time for o in occurrences(master, original_time, original_time + 1))


def _rule(recurrence: str, dtstart: dt.datetime) -> rrule:
    parsed = rrulestr("RRULE:" + _utc_until(recurrence), dtstart=dtstart)
    if not isinstance(parsed, rrule):
        raise FeishuFault(190002, "invalid parameters: recurrence must be a single RRULE")
    return parsed


def _utc_until(recurrence: str) -> str:
    """The rule with UNTIL in UTC: dateutil insists on it once the start is zone-aware.

    A date-only UNTIL is taken as the end of that day, a floating date-time as UTC.
    """
    parts = []
    for part in recurrence.removeprefix("RRULE:").split(";"):
        key, _, value = part.partition("=")
        if key.upper() == "UNTIL" and not value.endswith("Z"):
            value = value + "T235959Z" if len(value) == 8 else value + "Z"
        parts.append(f"{key}={value}" if _ else key)
    return ";".join(parts)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def date_of(seconds: int) -> str:
    """The UTC calendar date of an instant (all-day events live in UTC)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
