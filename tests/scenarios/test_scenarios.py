"""The nine requests of issue 11, each played through the MCP client as an assistant would, against
the sandbox: the calendar's final state is asserted, and no request takes more than six tool calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mcp.types import ElicitRequestParams, ElicitResult

from sandbox import DEMO_USER_OPEN_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, TEAM_CALENDAR_ID, Sandbox
from sandbox import rooms as room_bookings
from sandbox.seed_directory import ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID
from sandbox.state import Event
from tests.e2e.scheduling_harness import Session, session

pytestmark = pytest.mark.anyio

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_CALLS = 6
# The sandbox's clock (shared with the server) is pinned to Monday 2026-11-23 10:00: "this week"
# is Monday to Sunday, as get_current_context tells the assistant.
MONDAY, SUNDAY = "2026-11-23", "2026-11-29"


def events_titled(sb: Sandbox, summary: str) -> list[Event]:
    return [e for e in sb.world.events.values() if e.summary == summary and not e.deleted]


def local(seconds: int | None) -> str:
    assert seconds is not None
    return datetime.fromtimestamp(seconds, SHANGHAI).strftime("%a %H:%M")


def titled(items: list[dict[str, Any]], summary: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("external_content", {}).get("summary") == summary]


async def test_invite_han_meimei_to_the_design_review(assistant: Session) -> None:
    found = await assistant.call("search_events", query="Design review", start=MONDAY, end=SUNDAY)
    mine = [e for e in found["items"] if (e.get("event_organizer") or {}).get("user_id") == DEMO_USER_OPEN_ID]
    (review,) = mine  # Han Meimei's own review is hers; the user's is the one to invite to
    await assistant.call(
        "add_attendees", event_id=review["event_id"], attendees=[{"type": "user", "name": "Han Meimei"}]
    )
    (event,) = events_titled(assistant.sb, "Design review: mobile app")
    assert event.attendee_for_user(HAN_MEIMEI_OPEN_ID) is not None
    assert assistant.calls <= MAX_CALLS


async def test_which_rooms_are_free_tomorrow_10_to_11_for_six(assistant: Session) -> None:
    now = await assistant.call("get_current_context")  # on the clock the sandbox shares
    tomorrow = now["tomorrow"]["start"][:10]
    assert tomorrow == "2026-11-24"
    found = await assistant.call("find_rooms", min_capacity=6, start=f"{tomorrow}T10:00", end=f"{tomorrow}T11:00")
    lo = int(datetime.fromisoformat(f"{tomorrow}T10:00+08:00").timestamp())
    assert found["rooms"]
    for room in found["rooms"]:
        assert room["capacity"] >= 6
        assert room_bookings.bookings(assistant.sb.world, room["room_id"], lo, lo + 3600) == []
    free = {r["room_id"] for r in found["rooms"]}
    big_enough = {r.room_id for r in assistant.sb.world.rooms.values() if r.capacity >= 6}
    booked = {r for r in big_enough if room_bookings.bookings(assistant.sb.world, r, lo, lo + 3600)}
    assert free == big_enough - booked
    assert assistant.calls <= MAX_CALLS


async def test_find_30_minutes_this_week_with_li_lei_and_han_meimei_and_book_a_room_for_3(assistant: Session) -> None:
    times = await assistant.call(
        "find_meeting_times",
        attendees=["Li Lei", "Han Meimei"],
        duration_minutes=30,
        start=MONDAY,
        end="2026-11-27",
        room_capacity=3,
    )
    best = times["slots"][0]
    assert best["busy"] == [] and best["rooms"]
    await assistant.call(
        "create_event",
        summary="Sync with Li Lei and Han Meimei",
        start=best["start"],
        end=best["end"],
        invite=["Li Lei", "Han Meimei"],
        room=best["rooms"][0]["room_id"],
    )
    (event,) = events_titled(assistant.sb, "Sync with Li Lei and Han Meimei")
    assert event.attendee_for_user(LI_LEI_OPEN_ID) and event.attendee_for_user(HAN_MEIMEI_OPEN_ID)
    room = next(a for a in event.attendees if a.type == "resource")
    assert room.room_id == best["rooms"][0]["room_id"] and room.rsvp_status in ("accept", "needs_action")
    assert assistant.sb.world.rooms[room.room_id or ""].capacity >= 3
    assert event.start.timestamp is not None and event.start.timestamp >= assistant.sb.clock.now()
    assert assistant.calls <= MAX_CALLS


async def test_move_my_3pm_with_li_lei_to_thursday(assistant: Session) -> None:
    week = await assistant.call("view_instances", start=MONDAY, end=SUNDAY)
    (three_pm,) = [
        e
        for e in week["items"]
        # The agenda lists attendees by name; the title says it too.
        if e["start"][11:16] == "15:00" and "Li Lei" in e.get("external_content", {}).get("summary", "")
    ]
    start = datetime.fromisoformat(three_pm["start"])
    thursday = start.date().fromisocalendar(start.isocalendar().year, start.isocalendar().week, 4).isoformat()
    await assistant.call(
        "update_event", event_id=three_pm["event_id"], start=f"{thursday}T15:00", end=f"{thursday}T16:00"
    )
    (event,) = events_titled(assistant.sb, "Roadmap with Li Lei")
    assert local(event.start.timestamp) == "Thu 15:00" and local(event.end.timestamp) == "Thu 16:00"
    assert assistant.calls <= MAX_CALLS


async def test_move_only_this_weeks_standup_30_minutes_later(assistant: Session) -> None:
    week = await assistant.call("view_instances", start=MONDAY, end=SUNDAY)
    (standup,) = titled(week["items"], "Team standup")
    await assistant.call(
        "update_event", event_id=standup["event_id"], scope="this", start="2026-11-25T11:30", end="2026-11-25T11:45"
    )
    later = await assistant.call("view_instances", start="2026-11-23", end="2026-12-06")
    assert [i["start"][5:16] for i in titled(later["items"], "Team standup")] == [
        "11-25T11:30",
        "12-02T11:00",
    ]
    assert assistant.calls <= MAX_CALLS


async def test_move_all_standups_from_next_month_on_to_10(assistant: Session) -> None:
    december = await assistant.call("view_instances", start="2026-12-01", end="2026-12-07")
    (first,) = titled(december["items"], "Team standup")
    moved = await assistant.call(
        "update_event",
        event_id=first["event_id"],
        scope="this_and_following",
        start="2026-12-02T10:00",
        end="2026-12-02T10:15",
    )
    assert any("new series" in note for note in moved["warnings"])
    months = await assistant.call("view_instances", start="2026-11-23", end="2026-12-31")
    starts = [i["start"][5:16] for i in titled(months["items"], "Team standup")]
    assert starts == ["11-25T11:00", "12-02T10:00", "12-09T10:00", "12-16T10:00", "12-23T10:00", "12-30T10:00"]
    new = next(e for e in events_titled(assistant.sb, "Team standup") if e.uid != first["event_id"].rsplit("_", 1)[0])
    assert new.attendee_for_user(LI_LEI_OPEN_ID) is not None  # the attendees came along
    assert assistant.calls <= MAX_CALLS


async def test_decline_fridays_all_hands_invited_through_a_group(assistant: Session) -> None:
    friday = await assistant.call("view_instances", start="2026-11-27", end="2026-11-27")
    (all_hands,) = titled(friday["items"], "All hands")
    await assistant.call("reply_event", event_id=all_hands["event_id"], rsvp_status="decline")
    (event,) = events_titled(assistant.sb, "All hands")
    (group,) = [a for a in event.attendees if a.type == "chat"]
    assert group.member_replies[DEMO_USER_OPEN_ID] == "decline"
    members = await assistant.call(
        "list_chat_members",
        event_id=all_hands["event_id"],
        attendee_id=next(a.attendee_id for a in event.attendees if a.type == "chat"),
        page_size=100,
    )
    assert next(m for m in members["items"] if m["open_id"] == DEMO_USER_OPEN_ID)["rsvp_status"] == "decline"
    assert assistant.calls <= MAX_CALLS


async def test_put_the_offsite_on_the_team_calendar(assistant: Session) -> None:
    calendars = await assistant.call("list_calendars", name="team")
    (team,) = [c for c in calendars["calendars"] if c["role"] in ("owner", "writer")]
    await assistant.call(
        "create_event", calendar_id=team["summary"], summary="Team offsite", start="2026-12-03", end="2026-12-04"
    )
    (event,) = events_titled(assistant.sb, "Team offsite")
    assert event.organizer_calendar_id == TEAM_CALENDAR_ID
    assert (event.start.date, event.end.date) == ("2026-12-03", "2026-12-04")
    assert assistant.calls <= MAX_CALLS


@pytest.mark.parametrize("client_can_ask", [True, False], ids=["the-user-picks", "the-model-asks"])
async def test_invite_zhang_wei_when_there_are_two(world: Sandbox, client_can_ask: bool) -> None:
    async def the_user_picks_sales(context: Any, params: ElicitRequestParams) -> ElicitResult:
        ((field, spec),) = params.requested_schema["properties"].items()  # type: ignore[union-attr]
        return ElicitResult(action="accept", content={field: next(o for o in spec["enum"] if "Sales" in o)})

    async with session(world, elicitation_callback=the_user_picks_sales if client_can_ask else None) as assistant:
        found = await assistant.call("search_events", query="Sales sync", start=MONDAY, end=SUNDAY)
        event_id = found["items"][0]["event_id"]
        invite = {"type": "user", "name": "Zhang Wei"}
        if client_can_ask:
            await assistant.call("add_attendees", event_id=event_id, attendees=[invite])
        else:
            message = await assistant.fail("add_attendees", event_id=event_id, attendees=[invite])
            assert ZHANG_WEI_BACKEND_OPEN_ID in message and ZHANG_WEI_SALES_OPEN_ID in message
            # The model asks the user, who says "the one in Sales": the candidates named the ids.
            await assistant.call(
                "add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": ZHANG_WEI_SALES_OPEN_ID}]
            )
        (event,) = events_titled(world, "Sales sync")
        assert event.attendee_for_user(ZHANG_WEI_SALES_OPEN_ID) is not None
        assert event.attendee_for_user(ZHANG_WEI_BACKEND_OPEN_ID) is None
        assert assistant.calls <= MAX_CALLS
