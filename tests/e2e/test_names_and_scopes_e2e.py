"""Names wherever ids are wanted (people, chats, rooms, calendars; the user picks between two
Zhang Wei), and recurring edits with a scope, through the MCP client against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from mcp.types import ElicitRequestParams, ElicitResult

from sandbox import DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, TEAM_CALENDAR_ID, Sandbox
from sandbox.seed_directory import (
    DESIGN_CHAT_ID,
    FRONTEND_CHAT_ID,
    HOLIDAYS_CALENDAR_ID,
    ZHANG_WEI_BACKEND_OPEN_ID,
    ZHANG_WEI_SALES_OPEN_ID,
)
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session

pytestmark = pytest.mark.anyio

HUANGSHAN = "omm_sandbox0room0huangshan"
EVENTS = f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events"


@pytest.fixture
def sb() -> Sandbox:
    return pinned_sandbox()


@pytest.fixture
async def mcp(sb: Sandbox) -> AsyncIterator[Session]:
    async with session(sb) as s:
        yield s


async def new_event(mcp: Session, **extra: Any) -> str:
    created = await mcp.call(
        "create_event", summary="Review", start="2026-11-25T14:00", end="2026-11-25T15:00", **extra
    )
    return str(created["event"]["event_id"])


async def test_add_attendees_by_name_chat_room_and_email(mcp: Session) -> None:
    event_id = await new_event(mcp)
    added = await mcp.call(
        "add_attendees",
        event_id=event_id,
        attendees=[
            {"type": "user", "name": "Han Meimei"},
            {"type": "chat", "name": "Design guild 设计"},
            {"type": "resource", "name": "Huangshan"},
            {"type": "user", "name": "guest@acme.example", "is_optional": True},
        ],
    )
    (posted,) = [r for r in mcp.sb.log if r.method == "POST" and r.path.endswith("/attendees")]
    assert posted.body["attendees"] == [
        {"type": "user", "user_id": HAN_MEIMEI_OPEN_ID},
        {"type": "chat", "chat_id": DESIGN_CHAT_ID},
        {"type": "resource", "room_id": HUANGSHAN},
        {"type": "third_party", "third_party_email": "guest@acme.example", "is_optional": True},
    ]
    assert {a.get("user_id") for a in added["items"]} >= {HAN_MEIMEI_OPEN_ID}


async def test_two_zhang_wei_without_elicitation_is_an_error_listing_both(mcp: Session) -> None:
    event_id = await new_event(mcp)
    message = await mcp.fail("add_attendees", event_id=event_id, attendees=[{"type": "user", "name": "Zhang Wei"}])
    assert "matches 2 people" in message and "ask the user which one" in message
    assert ZHANG_WEI_BACKEND_OPEN_ID in message and "Beijing" in message
    assert not [r for r in mcp.sb.log if r.method == "POST" and r.path.endswith("/attendees")]


async def test_two_zhang_wei_the_user_picks(sb: Sandbox) -> None:
    asked: list[ElicitRequestParams] = []

    async def pick_beijing(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        schema = params.requested_schema  # type: ignore[union-attr]
        ((field, spec),) = schema["properties"].items()
        choice = next(label for label in spec["enum"] if "Beijing" in label)
        return ElicitResult(action="accept", content={field: choice})

    async with session(sb, elicitation_callback=pick_beijing) as mcp:
        event_id = await new_event(mcp)
        await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "name": "Zhang Wei"}])
        (posted,) = [r for r in mcp.sb.log if r.method == "POST" and r.path.endswith("/attendees")]
    assert posted.body["attendees"] == [{"type": "user", "user_id": ZHANG_WEI_SALES_OPEN_ID}]
    assert len(asked) == 1 and "Zhang Wei" in asked[0].message


async def test_create_event_invites_and_books_in_one_call_on_a_calendar_by_name(mcp: Session) -> None:
    created = await mcp.call(
        "create_event",
        calendar_id="Product team",
        summary="Offsite",
        start="2026-11-26T10:00",
        end="2026-11-26T11:00",
        invite=["Li Lei", "Design guild 设计"],
        room="Huangshan",
    )
    event = created["event"]
    assert {a.get("user_id") or a.get("chat_id") or a.get("room_id") for a in event["attendees"]} >= {
        LI_LEI_OPEN_ID,
        DESIGN_CHAT_ID,
        HUANGSHAN,
    }
    writes = [(r.method, r.path) for r in mcp.sb.log if r.method == "POST" and "/calendar/v4/calendars/" in r.path]
    team = f"/open-apis/calendar/v4/calendars/{TEAM_CALENDAR_ID}/events"
    assert writes == [("POST", team), ("POST", f"{team}/{event['event_id']}/attendees")]


async def test_part_of_a_calendar_name_is_enough_when_it_names_one(mcp: Session) -> None:
    # "Company holidays" was refused while the list it printed showed "Company holidays 公司假期";
    # people and rooms were found by part of their name already.
    listed = await mcp.call("list_events", calendar_id="company holidays", start="2026-11-23", end="2026-11-29")
    assert mcp.sb.log[-1].path == f"/open-apis/calendar/v4/calendars/{HOLIDAYS_CALENDAR_ID}/events"
    assert listed["items"] is not None
    message = await mcp.fail("list_events", calendar_id="a", start="2026-11-23", end="2026-11-29")
    assert "matches 2 calendars" in message  # "Product team" and "Company holidays": the user picks


async def test_an_unknown_calendar_name_is_refused_naming_the_calendars(mcp: Session) -> None:
    message = await mcp.fail("create_event", calendar_id="Marketing", start="2026-11-26T10:00", end="2026-11-26T11:00")
    assert 'no calendar named "Marketing"' in message and "Product team" in message
    assert not [r for r in mcp.sb.log if r.method == "POST"]


async def standup(mcp: Session) -> str:
    created = await mcp.call(
        "create_event",
        summary="Standup",
        start="2026-11-23T09:30",
        end="2026-11-23T09:45",
        recurrence="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=20",
        invite=["Li Lei"],
        room="Hengshan",
    )
    return str(created["event"]["event_id"]).rsplit("_", 1)[0]


async def starts(mcp: Session, start: str, end: str) -> list[tuple[str, str]]:
    agenda = await mcp.call("view_instances", start=start, end=end)
    return [
        (i["start"], i["event_id"])
        for i in agenda["items"]
        if i.get("external_content", {}).get("summary") == "Standup"
    ]


async def test_this_and_following_splits_the_series_keeping_attendees_and_rooms(mcp: Session) -> None:
    uid = await standup(mcp)
    wednesday = next(e for _, e in await starts(mcp, "2026-11-25", "2026-11-25"))
    moved = await mcp.call(
        "update_event", event_id=wednesday, scope="this_and_following", start="2026-11-25T10:00", end="2026-11-25T10:15"
    )
    assert any("ended the series" in n for n in moved["warnings"])
    assert any("new series" in n for n in moved["warnings"])
    new_uid = str(moved["event"]["event_id"]).rsplit("_", 1)[0]
    assert new_uid != uid
    week = await starts(mcp, "2026-11-23", "2026-11-27")
    assert [s[11:16] for s, _ in week] == ["09:30", "09:30", "10:00", "10:00", "10:00"]
    attendees = await mcp.call("list_attendees", event_id=f"{new_uid}_0")
    ids = {a.get("user_id") or a.get("room_id") for a in attendees["items"]}
    assert LI_LEI_OPEN_ID in ids and "omm_sandbox0room0hengshan" in ids
    # 20 occurrences in all: 2 before the split, 18 after.
    later = await starts(mcp, "2026-11-23", "2026-12-31")
    assert len(later) == 20


async def test_all_moves_every_occurrence_by_the_same_amount(mcp: Session) -> None:
    await standup(mcp)
    tuesday = next(e for _, e in await starts(mcp, "2026-11-24", "2026-11-24"))
    result = await mcp.call(
        "update_event", event_id=tuesday, scope="all", start="2026-11-24T10:00", end="2026-11-24T10:15"
    )
    assert result["warnings"] == [result["warnings"][0]] and "every occurrence" in result["warnings"][0]
    assert {s[11:16] for s, _ in await starts(mcp, "2026-11-23", "2026-11-27")} == {"10:00"}


async def test_this_moves_only_the_occurrence(mcp: Session) -> None:
    await standup(mcp)
    tuesday = next(e for _, e in await starts(mcp, "2026-11-24", "2026-11-24"))
    await mcp.call("update_event", event_id=tuesday, scope="this", start="2026-11-24T10:00", end="2026-11-24T10:15")
    assert [s[11:16] for s, _ in await starts(mcp, "2026-11-23", "2026-11-25")] == ["09:30", "10:00", "09:30"]


async def test_delete_this_and_following_and_all(mcp: Session) -> None:
    await standup(mcp)
    wednesday = next(e for _, e in await starts(mcp, "2026-11-25", "2026-11-25"))
    done = await mcp.call("delete_event", event_id=wednesday, scope="this_and_following")
    assert "ended the series" in done["detail"]
    assert len(await starts(mcp, "2026-11-23", "2026-12-31")) == 2
    monday = next(e for _, e in await starts(mcp, "2026-11-23", "2026-11-23"))
    await mcp.call("delete_event", event_id=monday, scope="all")
    assert await starts(mcp, "2026-11-23", "2026-12-31") == []


async def test_this_and_following_needs_an_occurrence(mcp: Session) -> None:
    uid = await standup(mcp)
    message = await mcp.fail("update_event", event_id=f"{uid}_0", scope="this_and_following", summary="x")
    assert "needs one occurrence" in message and "Nothing was changed" in message


@pytest.mark.parametrize("tool", ["update_event", "delete_event"])
async def test_this_and_following_on_an_event_that_does_not_repeat_says_so(mcp: Session, tool: str) -> None:
    """Not "needs one occurrence" (there is none to find): the scope is what to drop."""
    event_id = await new_event(mcp)
    extra = {"summary": "x"} if tool == "update_event" else {}
    message = await mcp.fail(tool, event_id=event_id, scope="this_and_following", **extra)
    assert "does not repeat" in message and "without scope" in message and "Nothing was changed" in message
    assert "needs one occurrence" not in message


async def test_a_public_chat_the_user_is_not_in_is_invited_by_name(mcp: Session) -> None:
    # Chat search shows public chats too (search.md); attendee create.md sets no membership rule for chats.
    created = await mcp.call(
        "create_event", summary="Demo", start="2026-11-26T16:00", end="2026-11-26T17:00", invite=["Frontend guild"]
    )
    assert [a.get("chat_id") for a in created["event"]["attendees"] if a.get("type") == "chat"] == [FRONTEND_CHAT_ID]


async def test_scope_all_on_an_event_that_does_not_repeat_names_no_series(mcp: Session) -> None:
    """The result used to say "changed every occurrence of the series <uid>_0" of a single event."""
    event_id = await new_event(mcp)
    changed = await mcp.call("update_event", event_id=event_id, scope="all", summary="Renamed")
    assert changed["warnings"] == ["changed the event (it does not repeat, so scope all made no difference)"]
    assert mcp.sb.world.events[event_id].summary == "Renamed"
    deleted = await mcp.call("delete_event", event_id=event_id, scope="all")
    assert "series" not in deleted["detail"] and deleted["detail"].startswith("deleted the event (it does not repeat")


@pytest.mark.parametrize("tool", ["update_event", "delete_event"])
async def test_scope_this_on_the_series_own_id_is_refused(mcp: Session, tool: str) -> None:
    """Feishu's edit (or delete) of uid_0 is the whole series: with scope this it changed or deleted
    every occurrence, while the model had asked for one."""
    uid = await standup(mcp)
    extra = {"summary": "Renamed"} if tool == "update_event" else {}
    message = await mcp.fail(tool, event_id=f"{uid}_0", scope="this", **extra)
    assert "is the whole series" in message and "view_instances" in message and "Nothing was changed" in message
    assert [s[11:16] for s, _ in await starts(mcp, "2026-11-23", "2026-11-25")] == ["09:30"] * 3


async def test_no_scope_on_the_series_own_id_says_every_occurrence_changed(mcp: Session) -> None:
    uid = await standup(mcp)
    changed = await mcp.call("update_event", event_id=f"{uid}_0", summary="Daily standup")
    assert changed["warnings"][0].startswith(f"changed every occurrence of the series {uid}_0")
    single = await new_event(mcp)
    assert (await mcp.call("update_event", event_id=single, scope="this", summary="x"))["warnings"] == []


@pytest.mark.parametrize("tool", ["update_event", "delete_event"])
@pytest.mark.parametrize("when", ["2026-11-25T09:31", "2026-11-20T09:30"])  # a minute off; before the series
async def test_this_and_following_from_a_time_that_is_no_occurrence_changes_nothing(
    mcp: Session, tool: str, when: str
) -> None:
    """The split went ahead from any uid_<time>: it ended the series there, or deleted it whole for a
    time before its first occurrence."""
    uid = await standup(mcp)
    moment = int(datetime.fromisoformat(when + "+08:00").timestamp())
    extra = {"summary": "Renamed"} if tool == "update_event" else {}
    message = await mcp.fail(tool, event_id=f"{uid}_{moment}", scope="this_and_following", **extra)
    assert "193001" in message
    assert len(await starts(mcp, "2026-11-23", "2026-12-31")) == 20
    assert not [r for r in mcp.sb.log if r.method in ("PATCH", "DELETE", "POST")]
