"""The seed week: realistic events around the sandbox clock's "today" (Asia/Shanghai).

Monday to Friday of the current week, plus the weekly product sync that started four weeks ago
(organized by the demo user, booking a room) with one moved occurrence this week and one
cancelled occurrence two weeks ahead. Uids are fixed; times follow the clock.
"""

from __future__ import annotations

import datetime as dt
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
    from sandbox.app import Sandbox

ZONE = "Asia/Shanghai"
EVERYONE = (DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID)


def populate_week(sb: Sandbox) -> None:
    world = sb.world
    monday = _this_monday(sb.clock.now())

    def at(day: int, hour: int, minute: int = 0) -> int:
        moment = dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hour, minute), ZoneInfo(ZONE))
        return int(moment.timestamp())

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

    weekly = add(
        WEEKLY_SYNC_UID,
        DEMO_USER_OPEN_ID,
        DEMO_PRIMARY_CALENDAR_ID,
        "Weekly product sync",
        at(-27, 10),
        at(-27, 11),
        description="Roadmap, blockers, demos. Agenda in the team doc.",
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=52",  # a room may be booked for 2 years at most
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
        (monday + dt.timedelta(days=2)).isoformat(),
        (monday + dt.timedelta(days=2)).isoformat(),
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


def _time(value: int | str) -> TimeInfo:
    if isinstance(value, str):
        return TimeInfo(date=value, timezone="UTC")
    return TimeInfo(timestamp=value, timezone=ZONE)


def _this_monday(now: float) -> dt.date:
    today = dt.datetime.fromtimestamp(now, ZoneInfo(ZONE)).date()
    return today - dt.timedelta(days=today.weekday())
