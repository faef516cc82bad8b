"""A room that needs approval, through the MCP client against the sandbox (one pinned clock).

find_rooms says the room needs approval; create_event and add_attendees refuse to book it without
``approval_reason`` (Feishu would fail the booking and say nothing) and report "awaiting approval",
not "booked" or "failed", until the sandbox's emulated approver answers (list_attendees says so too);
while it waits the room is busy for find_rooms, find_meeting_times and room free/busy, as a booking
in progress is on Feishu.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from sandbox import DEMO_USER_OPEN_ID, access, room_booking
from sandbox.seed_directory import APPROVAL_ROOM_ID
from server.app import build_server
from server.tokens import StaticToken
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio

SLOT = {"start": "2026-11-26T14:00", "end": "2026-11-26T15:00"}
WUDANG = "Wudang 武当 Boardroom"


@pytest.fixture
async def mcp() -> AsyncIterator[Session]:
    async with session(pinned_sandbox()) as s:
        yield s


async def booking_of(mcp: Session, event_id: str) -> list[str]:
    listed = await mcp.call("list_attendees", event_id=event_id)
    return [a["rsvp_status"] for a in listed["items"] if a.get("room_id") == APPROVAL_ROOM_ID]


async def test_find_rooms_shows_which_room_needs_approval(mcp: Session) -> None:
    found = {r["room_id"]: r for r in (await mcp.call("find_rooms", min_capacity=10))["rooms"]}
    assert found[APPROVAL_ROOM_ID]["needs_approval"] is True
    assert [r for r in found.values() if r["needs_approval"]] == [found[APPROVAL_ROOM_ID]]


async def test_create_event_asks_for_a_reason_then_awaits_approval(mcp: Session) -> None:
    message = await mcp.fail("create_event", summary="Board review", room="Wudang", **SLOT)
    assert "needs approval" in message and "approval_reason" in message and WUDANG in message
    assert "Nothing was changed" in message and not mcp.sent("/events")  # refused before anything was made
    created = await mcp.call("create_event", summary="Board review", room="Wudang", approval_reason="Q4 board", **SLOT)
    event_id = created["event"]["event_id"]
    assert [w for w in created["warnings"] if WUDANG in w] == [f"room {WUDANG}: awaiting approval " + AWAITING]
    (add,) = mcp.sent("/attendees")
    assert add.body["attendees"] == [{"type": "resource", "room_id": APPROVAL_ROOM_ID, "approval_reason": "Q4 board"}]
    mcp.sb.advance(room_booking.ANSWER_DELAY)  # an ordinary room would have answered
    assert await booking_of(mcp, event_id) == ["needs_action"]
    listed = await mcp.call("list_attendees", event_id=event_id)
    assert listed["warnings"] == [f"room {WUDANG}: awaiting approval " + AWAITING]
    # Pending approval holds the room: not offered to anyone else for that slot.
    free = await mcp.call("find_rooms", min_capacity=10, **SLOT)
    assert APPROVAL_ROOM_ID not in {r["room_id"] for r in free["rooms"]}
    busy = await mcp.call("get_room_freebusy", room_ids=[APPROVAL_ROOM_ID], **SLOT)
    assert busy["free_rooms"] == []
    slots = await mcp.call(
        "find_meeting_times", attendees=["Li Lei"], duration_minutes=60, room_capacity=16, limit=10, **SLOT
    )
    offered = [r["room_id"] for slot in slots["slots"] for r in slot["rooms"]]
    assert offered and APPROVAL_ROOM_ID not in offered  # the other big room is, the pending one is not
    mcp.sb.advance(room_booking.APPROVAL_DELAY)  # the approver's rule: accept an hour later
    assert await booking_of(mcp, event_id) == ["accept"]


async def test_add_attendees_by_id_asks_for_the_reason_too(mcp: Session) -> None:
    event_id = (await mcp.call("create_event", summary="Board prep", **SLOT))["event"]["event_id"]
    room = {"type": "resource", "room_id": APPROVAL_ROOM_ID}
    message = await mcp.fail("add_attendees", event_id=event_id, attendees=[room])
    assert "needs approval" in message and "approval_reason" in message
    assert not mcp.sent("/attendees")
    added = await mcp.call("add_attendees", event_id=event_id, attendees=[{**room, "approval_reason": "Prep"}])
    assert added["warnings"] == [f"room {WUDANG}: awaiting approval " + AWAITING]
    mcp.sb.decide_approval(event_id.rsplit("_", 1)[0], APPROVAL_ROOM_ID, "decline")  # the approver says no
    assert await booking_of(mcp, event_id) == ["decline"]
    free = await mcp.call("find_rooms", min_capacity=10, **SLOT)
    assert APPROVAL_ROOM_ID in {r["room_id"] for r in free["rooms"]}  # a declined booking frees the room


async def test_an_ordinary_room_is_booking_in_progress(mcp: Session) -> None:
    created = await mcp.call("create_event", summary="Sync", room="Hengshan", **SLOT)
    assert any(w.startswith("room Hengshan") and "booking in progress" in w for w in created["warnings"])


AWAITING = "(needs_action until its approver answers; not booked yet)"


async def test_without_room_search_a_room_id_is_still_booked() -> None:
    # vc:room:readonly is what tells a room needs approval; booking by room_id does not need it,
    # so a user who did not grant it books as before (a room that needs approval then fails).
    sb = pinned_sandbox()
    token = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=sorted(access.ALL_SCOPES - {"vc:room", "vc:room:readonly"}))
    server = build_server(
        all_tools_settings(), StaticToken(token, identity="no-rooms"), transport=sb.transport(), clock=sb.clock
    )
    async with Client(server) as client:
        mcp = Session(sb, client)
        event_id = (await mcp.call("create_event", summary="Plain", **SLOT))["event"]["event_id"]
        room = {"type": "resource", "room_id": APPROVAL_ROOM_ID}
        added = await mcp.call("add_attendees", event_id=event_id, attendees=[room])
        assert added["warnings"] == [
            f"room {WUDANG}: booking in progress (list_attendees shows the answer in a moment)"
        ]
        sb.advance(room_booking.ANSWER_DELAY)
        assert await booking_of(mcp, event_id) == ["decline"]  # Feishu fails it: no reason was given
