"""Every tool the sandbox server offers succeeds for the sandbox's demo user (the Exchange ones too).

One session on the seed world, as someone trying the sandbox would: each call must succeed, and
at the end every listed tool must have been called.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, ROOM_IDS, WEEKLY_SYNC_UID, room_booking
from tests.e2e.harness import Harness

pytestmark = pytest.mark.anyio

DESIGN_REVIEW = "sandbox0design0review00000000003_0"  # Han Meimei's, the demo user is invited
SPRINT_RETRO = "sandbox0sprint0retro000000000007_0"  # Li Lei's, the team chat is invited


class Calls:
    def __init__(self, mcp: Harness) -> None:
        self.mcp = mcp
        self.called: set[str] = set()

    async def __call__(self, tool: str, **arguments: Any) -> dict[str, Any]:
        self.called.add(tool)
        return await self.mcp.call(tool, **arguments)  # asserts the call succeeded


async def test_every_tool_succeeds_for_the_demo_user(mcp: Harness) -> None:
    call = Calls(mcp)
    me = (await call("get_current_context"))["user"]["open_id"]
    assert me == DEMO_USER_OPEN_ID
    assert (await call("view_instances", start="2026-11-23", end="2026-11-29"))["items"]
    await call("list_events")
    await call("search_events", query="sync", start="2026-11-23", end="2026-11-30")
    weekly = f"{WEEKLY_SYNC_UID}_0"
    assert (await call("list_recurring_instances", event_id=weekly, start="2026-11-23", end="2026-12-21"))["items"]
    await call("get_event", event_id=weekly, need_attendee=True)
    await call("reply_event", event_id=DESIGN_REVIEW, rsvp_status="accept")
    retro = (await call("list_attendees", event_id=SPRINT_RETRO))["items"]
    chat = next(a for a in retro if a["type"] == "chat")
    assert (await call("list_chat_members", event_id=SPRINT_RETRO, attendee_id=chat["attendee_id"]))["items"]

    room = ROOM_IDS[1]
    free = await call("get_room_freebusy", room_ids=[room], start="2026-11-24T10:00", end="2026-11-24T11:00")
    assert free["free_rooms"] == [room]
    new = {"summary": "Every tool", "start": "2026-11-24T10:00", "end": "2026-11-24T11:00"}
    event_id = (await call("create_event", **new, attendee_ability="can_see_others"))["event"]["event_id"]
    await call("update_event", event_id=event_id, summary="Every tool, renamed")
    people = [{"type": "user", "user_id": LI_LEI_OPEN_ID}, {"type": "resource", "room_id": room}]
    await call("add_attendees", event_id=event_id, attendees=people)
    mcp.sb.advance(room_booking.ANSWER_DELAY)
    listed = (await call("list_attendees", event_id=event_id))["items"]
    assert next(a for a in listed if a.get("room_id") == room)["rsvp_status"] == "accept"
    chat_id = (await call("create_meeting_chat", event_id=event_id))["data"]["meeting_chat_id"]
    await call("unbind_meeting_chat", event_id=event_id, meeting_chat_id=chat_id)
    await call("create_meeting_minutes", event_id=event_id)
    li_lei = next(a for a in listed if a.get("user_id") == LI_LEI_OPEN_ID)
    await call("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    await call("delete_event", event_id=event_id)

    await call("subscribe_events")
    await call("unsubscribe_events")
    await call("generate_caldav_config", device_name="every-tool test")
    binding = await call(
        "create_exchange_binding",
        admin_account="admin@sandbox.example",
        exchange_account="demo.user@sandbox.example",
        user_id=me,
    )
    binding_id = binding["data"]["exchange_binding_id"]
    assert (await call("get_exchange_binding", exchange_binding_id=binding_id))["data"]["status"]
    await call("delete_exchange_binding", exchange_binding_id=binding_id)

    # Scheduling by name.
    assert (await call("find_people", query="Li Lei"))["people"][0]["open_id"] == LI_LEI_OPEN_ID
    window = {"start": "2026-11-24", "end": "2026-11-25"}
    assert (await call("get_free_busy", people=["Li Lei"], rooms=[room], **window))["items"]
    assert (await call("find_meeting_times", attendees=["Li Lei"], duration_minutes=30, **window))["slots"]
    assert (await call("find_rooms", min_capacity=4))["rooms"]
    assert (await call("list_calendars"))["calendars"]

    offered = {tool.name for tool in (await mcp.client.list_tools()).tools}
    assert call.called == offered, offered - call.called
