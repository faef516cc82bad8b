"""The seed events: a realistic week around "now" (the sandbox clock), in Asia/Shanghai.

Built by :func:`populate_around` from a given instant, so the world looks the same whatever the
weekday, hour or machine timezone: day 0 is today, and there are always

* meetings that just ended and one that starts within the next two hours (with a pending
  invitation), whatever the hour;
* pending invitations from colleagues in the coming days (the demo replies to one);
* the weekly product sync, organized by the demo user and booking a room, which started four
  weeks ago on tomorrow's weekday, with tomorrow's occurrence moved (a modified occurrence) and
  the one two weeks later cancelled;
* room bookings today and in the coming days, an all-day event, a private event, an external
  guest and a group-chat attendee.

Uids are fixed; times follow ``now``. Other seed modules add to the same world by taking the
same ``now`` (:class:`SeedTime` counts days and hours from it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sandbox import eventstore
from sandbox.seed import (
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    TEAM_CALENDAR_ID,
    TENANT_KEY,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    primary_calendar_id,
)
from sandbox.state import Attendee, Event, TimeInfo

if TYPE_CHECKING:
    from sandbox.core import Core

ZONE = "Asia/Shanghai"
EVERYONE = (DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HALF_HOUR = 1800


@dataclass(frozen=True)
class SeedTime:
    """Instants of the seed world, counted from "now" in the seed zone (day 0 is today)."""

    now: float
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(ZONE))

    @property
    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.now, self.zone).date()

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def at(self, day: int, hour: int, minute: int = 0) -> int:
        """Unix seconds of ``hour:minute`` local time, ``day`` days from today."""
        moment = dt.datetime.combine(self.day(day), dt.time(hour, minute), self.zone)
        return int(moment.timestamp())

    def from_now(self, minutes: int) -> int:
        """Unix seconds ``minutes`` from now, counted from the last half hour (round times)."""
        return int(self.now) // HALF_HOUR * HALF_HOUR + minutes * 60


def populate_around(sb: Core, now: float) -> None:
    """The seed events around ``now`` (Unix seconds) in the sandbox's world."""
    world = sb.world
    when = SeedTime(now)
    at = when.at

    def user(open_id: str, rsvp: str = "needs_action") -> Attendee:
        return eventstore.user_attendee(world, open_id, TENANT_KEY, rsvp)  # type: ignore[arg-type]

    def add(
        uid: str, organizer: str, calendar_id: str, summary: str, start: int | str, end: int | str, **fields: object
    ) -> Event:
        """An event from ``start`` to ``end``: Unix seconds, or dates (all-day)."""
        event = Event(
            uid=uid,
            original_time=0,
            organizer_calendar_id=calendar_id,
            organizer_open_id=organizer,
            start=_time(start),
            end=_time(end),
            create_time=at(-7, 9),
            summary=summary,
        )
        for name, value in fields.items():
            setattr(event, name, value)
        if event.attendees:
            eventstore.ensure_organizer_attendee(world, event)
        eventstore.save(world, event)
        return event

    # Tomorrow's weekday, so that the moved occurrence is always ahead.
    weekly = add(
        WEEKLY_SYNC_UID,
        DEMO_USER_OPEN_ID,
        DEMO_PRIMARY_CALENDAR_ID,
        "Weekly product sync",
        at(-27, 10),
        at(-27, 11),
        description="Roadmap, blockers, demos. Agenda in the team doc.",
        recurrence=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[when.day(1).weekday()]};COUNT=52",  # a room: 2 years at most
        attendee_ability="can_see_others",
        vchat={"vc_type": "vc", "meeting_url": "https://vc.feishu.cn/j/100200300"},
        location={"name": "Everest 珠峰 (8)"},
        reminders=[{"minutes": 10}],
        attendees=[
            user(LI_LEI_OPEN_ID, "accept"),
            user(HAN_MEIMEI_OPEN_ID, "accept"),
            user(WANG_FANG_OPEN_ID, "tentative"),
            eventstore.room_attendee(world, ROOM_IDS[0]),
        ],
    )
    moved = eventstore.occurrence(weekly, at(1, 10))
    moved.start.timestamp, moved.end.timestamp = at(1, 14), at(1, 15)
    moved.summary = "Weekly product sync (moved to the afternoon)"
    eventstore.save(world, moved)
    cancelled = eventstore.occurrence(weekly, at(15, 10))
    cancelled.status = "cancelled"
    eventstore.save(world, cancelled)

    add(
        "sandbox0one0on0one0lilei0000000002",
        DEMO_USER_OPEN_ID,
        DEMO_PRIMARY_CALENDAR_ID,
        "1:1 with Li Lei",
        at(0, 14),
        at(0, 14, 30),
        attendees=[user(LI_LEI_OPEN_ID, "accept"), eventstore.room_attendee(world, ROOM_IDS[1])],
    )
    add(
        "sandbox0design0review00000000003",
        HAN_MEIMEI_OPEN_ID,
        primary_calendar_id(HAN_MEIMEI_OPEN_ID),
        "Design review: calendar assistant",
        at(1, 16),
        at(1, 17),
        description="Walk through the assistant's scheduling flows.",
        attendee_ability="can_see_others",
        vchat={"vc_type": "vc", "meeting_url": "https://vc.feishu.cn/j/100200301"},
        attendees=[
            user(DEMO_USER_OPEN_ID),
            user(LI_LEI_OPEN_ID, "accept"),
            eventstore.room_attendee(world, ROOM_IDS[2]),
        ],
    )
    add(
        "sandbox0offsite0planning00000004",
        LI_LEI_OPEN_ID,
        TEAM_CALENDAR_ID,
        "Team offsite planning",
        when.day(2).isoformat(),
        when.day(2).isoformat(),
        free_busy_status="free",
    )
    add(
        "sandbox0customer0call00000000005",
        WANG_FANG_OPEN_ID,
        primary_calendar_id(WANG_FANG_OPEN_ID),
        "Customer call: Acme onboarding",
        at(3, 10),
        at(3, 11),
        vchat={"vc_type": "third_party", "meeting_url": "https://meet.acme.example/onboarding"},
        attendees=[user(DEMO_USER_OPEN_ID, "tentative"), eventstore.third_party_attendee("client@acme.example")],
    )
    add(
        "sandbox0partner0lunch00000000006",
        DEMO_USER_OPEN_ID,
        DEMO_PRIMARY_CALENDAR_ID,
        "Lunch with Partner Pat",
        at(3, 12),
        at(3, 13),
        visibility="private",
        location={"name": "Noodle Bar", "address": "88 Century Ave, Shanghai"},
        attendees=[user(EXTERNAL_OPEN_ID, "accept")],
    )
    add(
        "sandbox0sprint0retro000000000007",
        LI_LEI_OPEN_ID,
        primary_calendar_id(LI_LEI_OPEN_ID),
        "Sprint retro",
        at(4, 15),
        at(4, 16),
        attendee_ability="can_invite_others",
        vchat={"vc_type": "vc", "meeting_url": "https://vc.feishu.cn/j/100200302"},
        attendees=[eventstore.chat_attendee(world, DEMO_CHAT_ID), eventstore.room_attendee(world, ROOM_IDS[0])],
    )
    add(
        "sandbox0focus0time00000000000008",
        DEMO_USER_OPEN_ID,
        DEMO_PRIMARY_CALENDAR_ID,
        "Focus time",
        at(2, 9),
        at(2, 11, 30),
        visibility="private",
    )
    # Whatever the hour: a meeting that just ended, and a pending invitation starting soon.
    add(
        "sandbox0code0review0lilei00000009",
        LI_LEI_OPEN_ID,
        primary_calendar_id(LI_LEI_OPEN_ID),
        "Code review: sync engine",
        when.from_now(-90),
        when.from_now(-30),
        attendee_ability="can_see_others",
        attendees=[user(DEMO_USER_OPEN_ID, "accept")],
    )
    add(
        "sandbox0release0check0wangfang010",
        WANG_FANG_OPEN_ID,
        primary_calendar_id(WANG_FANG_OPEN_ID),
        "Release checklist",
        when.from_now(60),
        when.from_now(90),
        description="Go through the release checklist before the cut.",
        attendee_ability="can_see_others",
        attendees=[user(DEMO_USER_OPEN_ID), user(HAN_MEIMEI_OPEN_ID, "accept")],
    )


def _time(value: int | str) -> TimeInfo:
    if isinstance(value, str):
        return TimeInfo(date=value, timezone="UTC")
    return TimeInfo(timestamp=value, timezone=ZONE)
