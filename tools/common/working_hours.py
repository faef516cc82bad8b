"""The user's working hours (a server setting): which weekdays and hours meetings may be proposed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT = "Mon-Fri 09:00-18:00"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FORM = re.compile(r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class WorkingHours:
    weekdays: frozenset[int]  # Monday = 0
    start: time
    end: time

    def spans(self, lo: datetime, hi: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The working stretches of each day between ``lo`` and ``hi``, in ``zone``."""
        found: list[tuple[datetime, datetime]] = []
        day = lo.astimezone(zone).date()
        while day <= hi.astimezone(zone).date():
            if day.weekday() in self.weekdays:
                begin = max(datetime.combine(day, self.start, zone), lo)
                finish = min(datetime.combine(day, self.end, zone), hi)
                if begin < finish:
                    found.append((begin, finish))
            day += timedelta(days=1)
        return found

    def describe(self) -> str:
        names = [DAYS[d].capitalize() for d in sorted(self.weekdays)]
        return f"{','.join(names)} {self.start:%H:%M}-{self.end:%H:%M}"


def parse(text: str) -> WorkingHours:
    """``Mon-Fri 09:00-18:00`` (day ranges and lists, 24-hour times); a ValueError names the form."""
    match = _FORM.match(text or "")
    if match is None:
        raise ValueError(f"working hours: expected a form like {DEFAULT!r}, got {text!r}")
    weekdays: set[int] = set()
    for part in match["days"].replace(" ", "").lower().split(","):
        first, _, last = part.partition("-")
        if first[:3] not in DAYS or (last and last[:3] not in DAYS):
            raise ValueError(f"working hours: unknown day in {part!r}; use Mon, Tue, ... Sun")
        a, b = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        weekdays |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
    try:
        start, end = time.fromisoformat(match["start"].zfill(5)), time.fromisoformat(match["end"].zfill(5))
    except ValueError:
        raise ValueError(f"working hours: {match['start']}-{match['end']} is not a time range") from None
    if end <= start:
        raise ValueError("working hours: the end must be after the start (no overnight hours)")
    return WorkingHours(frozenset(weekdays), start, end)
