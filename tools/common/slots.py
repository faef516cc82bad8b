"""The candidate slots of find_meeting_times (tools/freebusy_meeting_times.py): the half-hour grid,
who is busy at a slot's times (every time of a recurring meeting within the window), ranking and
picking. Plain logic: no Feishu requests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tools.common.composite import JsonObject

Span = tuple[datetime, datetime]

STEP = timedelta(minutes=30)
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII)


@dataclass
class Candidate:
    start: datetime
    end: datetime
    busy: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    rooms: list[JsonObject] = field(default_factory=list)
    reason: str = ""
    starts: list[datetime] = field(default_factory=list)  # when it takes place within the window

    @property
    def times(self) -> int:
        return len(self.starts)

    def taken(self, spans: Sequence[Span]) -> bool:
        """Whether any of its times meets one of ``spans``."""
        length = self.end - self.start
        return any(a < s + length and b > s for s in self.starts for a, b in spans)


def grid(moment: datetime) -> datetime:
    """The next half hour at or after ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    return base + timedelta(minutes=-base.minute % 30)


def grid_starts(spans: Sequence[Span], length: timedelta) -> list[datetime]:
    starts: list[datetime] = []
    for begin, finish in spans:
        start = grid(begin)
        while start + length <= finish:
            starts.append(start)
            start += STEP
    return starts


def score(
    start: datetime,
    end: datetime,
    busy: dict[str, list[Span] | None],
    names: dict[str, str],
    reason: str,
    starts: Sequence[datetime],
) -> Candidate:
    """The slot, busy for whoever is busy at any of its ``starts`` (a recurring meeting's times)."""
    slot = Candidate(start, end, reason=reason, starts=list(starts))
    for person, spans in busy.items():
        label = names.get(person, person)
        if spans is None:
            slot.unknown.append(label)
        elif slot.taken(spans):
            slot.busy.append(label)
    return slot


def rank(candidates: Sequence[Candidate], want_room: bool) -> list[Candidate]:
    """Everyone free (and a room, when one is wanted) first, then fewer busy, fewer unknown, earlier."""
    return sorted(candidates, key=lambda c: (want_room and not c.rooms, len(c.busy), len(c.unknown), c.start))


def pick(ranked: Sequence[Candidate], limit: int) -> list[Candidate]:
    """The first ``limit`` slots that do not overlap, one a day before a second on any day (choices
    on several days serve the user better than four half hours of one morning)."""
    chosen: list[Candidate] = []
    for per_day in (1, limit):
        for slot in ranked:
            same_day = sum(c.start.date() == slot.start.date() for c in chosen)
            free_of_chosen = all(slot.end <= c.start or slot.start >= c.end for c in chosen)
            if len(chosen) < limit and same_day < per_day and free_of_chosen and slot not in chosen:
                chosen.append(slot)
    return chosen


def covers(until: Any, slot: Candidate) -> bool:
    """Whether a room bookable until ``until`` (room_find's reserve_until_time) holds every time of
    the slot in the window (the CLI's skill: check it covers the series); unreadable: it does not."""
    text = str(until or "")
    if not RFC3339.fullmatch(text):
        return False
    return datetime.fromisoformat(text) >= slot.starts[-1] + (slot.end - slot.start)
