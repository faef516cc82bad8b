"""update_event / delete_event with scope this_and_following keep the old series' exceptions right.

Played through the MCP client against the sandbox (one pinned clock, Monday 2026-11-23 10:00
Shanghai): a weekly series with a moved and a cancelled occurrence before the split point and
after it (one of the later ones also has its own attendee), then split; the calendar's instances
view is asserted whole. A daylight-saving zone and an all-day series too, under several machine
timezones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox import DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, ROOM_IDS, Sandbox, room_booking
from sandbox.seed_directory import APPROVAL_ROOM_ID
from tests.e2e.harness import IN_MACHINE_ZONES
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session

pytestmark = pytest.mark.anyio

EVENTS = f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events"
SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
ROOM = ROOM_IDS[0]


def ts(text: str, zone: ZoneInfo = SHANGHAI) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp())


def timed(text: str, zone: ZoneInfo = SHANGHAI) -> dict[str, str]:
    return {"timestamp": str(ts(text, zone)), "timezone": zone.key}


class Organizer:
    """The demo user changing their own series through the sandbox's API, as in Feishu's app."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    async def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.sb.client(headers={"Authorization": f"Bearer {self.sb.demo_token}"}) as http:
            answer = (await http.request(method, EVENTS + path, json=body)).json()
        assert answer["code"] == 0, answer
        return dict(answer.get("data") or {})

    async def series(self, **event: Any) -> str:
        created = await self.send("POST", "", event)
        return str(created["event"]["event_id"]).rsplit("_", 1)[0]

    async def move(self, uid: str, original: int, start: dict[str, str], end: dict[str, str], **more: Any) -> None:
        await self.send("PATCH", f"/{uid}_{original}", {"start_time": start, "end_time": end, **more})

    async def cancel(self, uid: str, original: int) -> None:
        await self.send("DELETE", f"/{uid}_{original}")

    async def invite(self, event_id: str, *attendees: dict[str, Any]) -> None:
        await self.send("POST", f"/{event_id}/attendees", {"attendees": list(attendees)})


@pytest.fixture
async def mcp() -> AsyncIterator[Session]:
    async with session(pinned_sandbox()) as s:
        yield s


async def standup(mcp: Session) -> str:
    """Weekly Wednesday 11:00 from 2026-11-25, 12 times, with Li Lei and a room, changed here and there."""
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="Standup",
        start_time=timed("2026-11-25T11:00"),
        end_time=timed("2026-11-25T11:15"),
        recurrence="FREQ=WEEKLY;BYDAY=WE;COUNT=12",
    )
    await me.invite(f"{uid}_0", {"type": "user", "user_id": LI_LEI_OPEN_ID}, {"type": "resource", "room_id": ROOM})
    # Before the split point (Dec 16): one moved, one cancelled.
    await me.move(uid, ts("2026-12-02T11:00"), timed("2026-12-03T14:00"), timed("2026-12-03T14:15"))
    await me.cancel(uid, ts("2026-12-09T11:00"))
    # After it: one moved and retitled, one cancelled, one with its own extra attendee.
    xmas = ts("2026-12-23T11:00")
    await me.move(uid, xmas, timed("2026-12-24T15:00"), timed("2026-12-24T15:30"), summary="Standup (Xmas)")
    await me.cancel(uid, ts("2026-12-30T11:00"))
    await me.invite(f"{uid}_{ts('2027-01-06T11:00')}", {"type": "user", "user_id": HAN_MEIMEI_OPEN_ID})
    mcp.sb.advance(room_booking.ANSWER_DELAY)
    return uid


async def agenda(mcp: Session, windows: list[tuple[str, str]], summary_prefix: str) -> list[tuple[str, str]]:
    """(local start, title) of every occurrence shown whose title starts with ``summary_prefix``."""
    shown: list[tuple[str, str]] = []
    for start, end in windows:
        for item in (await mcp.call("view_instances", start=start, end=end))["items"]:
            title = str(item.get("external_content", {}).get("summary", ""))
            if title.startswith(summary_prefix):
                shown.append((str(item["start"])[:16], title))
    return shown


WINTER = [("2026-11-23", "2026-12-27"), ("2026-12-28", "2027-01-31"), ("2027-02-01", "2027-03-07")]


async def test_moving_this_and_following_carries_the_later_changes(mcp: Session) -> None:
    uid = await standup(mcp)
    split_at = ts("2026-12-16T11:00")
    moved = await mcp.call(
        "update_event",
        event_id=f"{uid}_{split_at}",
        scope="this_and_following",
        start="2026-12-16T10:00",
        end="2026-12-16T10:15",
    )
    assert await agenda(mcp, WINTER, "Standup") == [
        ("2026-11-25T11:00", "Standup"),
        ("2026-12-03T14:00", "Standup"),  # moved before the split: stays
        # Dec 9 was cancelled before the split: stays cancelled
        ("2026-12-16T10:00", "Standup"),  # the new series, at its new time
        ("2026-12-24T15:00", "Standup (Xmas)"),  # carried: its own time and title
        # Dec 30 stays cancelled in the new series
        ("2027-01-06T10:00", "Standup"),
        ("2027-01-13T10:00", "Standup"),
        ("2027-01-20T10:00", "Standup"),
        ("2027-01-27T10:00", "Standup"),
        ("2027-02-03T10:00", "Standup"),
        ("2027-02-10T10:00", "Standup"),  # the 12th: COUNT carried over
    ]
    new_id = str(moved["event"]["event_id"])
    new_uid = new_id.rsplit("_", 1)[0]
    notes = moved["warnings"]
    assert f"started the new series {new_id} from this occurrence" in notes
    xmas = f"{new_uid}_{ts('2026-12-23T10:00')}"
    carried = "the occurrence of Wed 2026-12-23 11:00 keeps its changes (moved to Thu 2026-12-24 15:00, summary)"
    assert f"{carried} as {xmas}" in notes

    assert f"the occurrence of Wed 2026-12-30 11:00 stays cancelled ({new_uid}_{ts('2026-12-30T10:00')})" in notes
    assert any(
        n.startswith("the occurrence of Wed 2027-01-06 11:00 keeps") and "1 added, 0 removed" in n for n in notes
    )
    # Han Meimei is on Jan 6 only; Li Lei and the room on every occurrence of the new series.
    world = mcp.sb.world
    jan_6 = world.events[f"{new_uid}_{ts('2027-01-06T10:00')}"]
    assert jan_6.attendee_for_user(HAN_MEIMEI_OPEN_ID) is not None
    assert world.events[f"{new_uid}_0"].attendee_for_user(HAN_MEIMEI_OPEN_ID) is None
    assert world.events[f"{new_uid}_0"].attendee_for_user(LI_LEI_OPEN_ID) is not None
    rooms = [a for a in world.events[f"{new_uid}_0"].attendees if a.room_id == ROOM]
    assert [a.rsvp_status for a in rooms] == ["needs_action"]
    assert any(n.startswith("room ") and "booking in progress" in n for n in notes)
    # Nothing of the old series is left from the split on, moved ones included.
    old = [e for e in world.events.values() if e.uid == uid and not e.deleted and e.status != "cancelled"]
    assert sorted(e.original_time for e in old) == [0, ts("2026-12-02T11:00")]


async def test_deleting_this_and_following_removes_the_later_changes_too(mcp: Session) -> None:
    uid = await standup(mcp)
    me = Organizer(mcp.sb)
    # Moved from before the split point to after it: it belongs to the earlier part and stays.
    await me.move(uid, ts("2026-11-25T11:00"), timed("2026-12-17T09:00"), timed("2026-12-17T09:15"))
    deleted = await mcp.call("delete_event", event_id=f"{uid}_{ts('2026-12-16T11:00')}", scope="this_and_following")
    assert await agenda(mcp, WINTER, "Standup") == [
        ("2026-12-03T14:00", "Standup"),
        ("2026-12-17T09:00", "Standup"),
    ]
    assert (
        "deleted the changed occurrence of Wed 2026-12-23 11:00 (it was at Thu 2026-12-24 15:00)" in deleted["detail"]
    )
    assert "1 of the later occurrences had been cancelled already" in deleted["detail"]


@IN_MACHINE_ZONES
async def test_a_daylight_saving_zone_keeps_its_wall_clock(mcp: Session, machine_zone: str) -> None:
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="NY sync",
        start_time=timed("2027-02-01T09:00", NEW_YORK),  # EST
        end_time=timed("2027-02-01T09:30", NEW_YORK),
        recurrence="FREQ=WEEKLY;BYDAY=MO;UNTIL=20270412T235959Z",
    )
    await me.move(
        uid, ts("2027-02-08T09:00", NEW_YORK), timed("2027-02-09T09:00", NEW_YORK), timed("2027-02-09T09:30", NEW_YORK)
    )
    await me.move(
        uid, ts("2027-03-22T09:00", NEW_YORK), timed("2027-03-23T16:00", NEW_YORK), timed("2027-03-23T16:30", NEW_YORK)
    )
    await me.cancel(uid, ts("2027-03-29T09:00", NEW_YORK))
    split_at = ts("2027-03-15T09:00", NEW_YORK)  # the first Monday on daylight time (from Mar 14)
    await mcp.call(
        "update_event",
        event_id=f"{uid}_{split_at}",
        scope="this_and_following",
        summary="NY sync (later)",
        start="2027-03-15T10:00",
        end="2027-03-15T10:30",
        timezone="America/New_York",
    )
    shown = await agenda(mcp, [("2027-02-01", "2027-03-07"), ("2027-03-08", "2027-04-13")], "NY sync")
    assert shown == [
        ("2027-02-01T09:00", "NY sync"),
        ("2027-02-09T09:00", "NY sync"),
        ("2027-02-15T09:00", "NY sync"),
        ("2027-02-22T09:00", "NY sync"),
        ("2027-03-01T09:00", "NY sync"),
        ("2027-03-08T09:00", "NY sync"),
        ("2027-03-15T10:00", "NY sync (later)"),
        ("2027-03-23T16:00", "NY sync (later)"),  # its own time kept; the series' new title
        ("2027-04-05T10:00", "NY sync (later)"),
        ("2027-04-12T10:00", "NY sync (later)"),
    ]


@IN_MACHINE_ZONES
async def test_an_all_day_series(mcp: Session, machine_zone: str) -> None:
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="Focus day",
        start_time={"date": "2026-11-27"},
        end_time={"date": "2026-11-27"},
        recurrence="FREQ=WEEKLY;BYDAY=FR;COUNT=8",
    )
    day = 86400
    first = ts("2026-11-27T00:00", ZoneInfo("UTC"))
    await me.cancel(uid, first + 28 * day)  # Dec 25
    await me.move(uid, first + 35 * day, {"date": "2026-12-31"}, {"date": "2026-12-31"})  # Jan 1 -> Dec 31
    await mcp.call("update_event", event_id=f"{uid}_{first + 21 * day}", scope="this_and_following", summary="Deep day")
    shown = await agenda(mcp, [("2026-11-23", "2026-12-27"), ("2026-12-28", "2027-01-31")], "")
    focus = [(s[:10], t) for s, t in shown if t in ("Focus day", "Deep day")]
    assert focus == [
        ("2026-11-27", "Focus day"),
        ("2026-12-04", "Focus day"),
        ("2026-12-11", "Focus day"),
        ("2026-12-18", "Deep day"),
        ("2026-12-31", "Deep day"),
        ("2027-01-08", "Deep day"),
        ("2027-01-15", "Deep day"),
    ]


async def test_a_moved_split_point_keeps_its_own_time(mcp: Session) -> None:
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="Review",
        start_time=timed("2026-12-01T15:00"),
        end_time=timed("2026-12-01T16:00"),
        recurrence="FREQ=WEEKLY;BYDAY=TU;UNTIL=20261222T235959Z",
    )
    split_at = ts("2026-12-08T15:00")
    await me.move(uid, split_at, timed("2026-12-08T17:00"), timed("2026-12-08T18:00"))  # this week only
    await mcp.call("update_event", event_id=f"{uid}_{split_at}", scope="this_and_following", summary="Design review")
    shown = await agenda(mcp, [("2026-11-30", "2026-12-31")], "")
    assert [s for s in shown if "eview" in s[1]] == [
        ("2026-12-01T15:00", "Review"),
        ("2026-12-08T17:00", "Design review"),  # still moved: the new series starts at its usual 15:00
        ("2026-12-15T15:00", "Design review"),
        ("2026-12-22T15:00", "Design review"),
    ]


async def test_splitting_at_the_first_occurrence_replaces_the_series(mcp: Session) -> None:
    me = Organizer(mcp.sb)
    first = "2026-12-01T09:00"
    uid = await me.series(
        summary="Kickoff",
        start_time=timed(first),
        end_time=timed("2026-12-01T09:30"),
        recurrence="FREQ=DAILY;COUNT=4",
    )
    await me.cancel(uid, ts("2026-12-03T09:00"))
    changed = await mcp.call(
        "update_event", event_id=f"{uid}_{ts(first)}", scope="this_and_following", summary="Kick-off"
    )
    assert f"replaced the series {uid}_0 (this was its first occurrence)" in changed["warnings"]
    shown = await agenda(mcp, [("2026-11-30", "2026-12-06")], "Kick")
    assert shown == [
        ("2026-12-01T09:00", "Kick-off"),
        ("2026-12-02T09:00", "Kick-off"),
        ("2026-12-04T09:00", "Kick-off"),
    ]
    assert all(e.deleted for e in mcp.sb.world.events.values() if e.uid == uid)


async def test_a_room_that_needs_approval_is_asked_for_again_with_its_reason(mcp: Session) -> None:
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="Board",
        start_time=timed("2026-12-02T16:00"),
        end_time=timed("2026-12-02T17:00"),
        recurrence="FREQ=WEEKLY;BYDAY=WE;COUNT=6",
    )
    await me.invite(f"{uid}_0", {"type": "resource", "room_id": APPROVAL_ROOM_ID, "approval_reason": "Board meetings"})
    mcp.sb.advance(room_booking.APPROVAL_DELAY)  # approved
    split = await mcp.call(
        "update_event", event_id=f"{uid}_{ts('2026-12-16T16:00')}", scope="this_and_following", summary="Board (new)"
    )
    assert any(n.startswith("room Wudang") and "awaiting approval" in n for n in split["warnings"])
    new_uid = str(split["event"]["event_id"]).rsplit("_", 1)[0]
    [room] = [a for a in mcp.sb.world.events[f"{new_uid}_0"].attendees if a.room_id == APPROVAL_ROOM_ID]
    assert (room.approval_reason, room.rsvp_status, room.awaiting_approval) == ("Board meetings", "needs_action", True)
    old = [a for a in mcp.sb.world.events[f"{uid}_0"].attendees if a.room_id == APPROVAL_ROOM_ID]
    assert [a.rsvp_status for a in old] == ["accept"]  # the earlier meetings keep their approved booking
