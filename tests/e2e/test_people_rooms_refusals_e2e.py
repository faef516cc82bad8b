"""Feishu's refusals from the attendee, meeting, room and Exchange routes, as the model sees them.

The happy paths of these tools are in test_people_rooms_e2e.py; here each call is refused by the
sandbox for the reason Feishu would give, and the tool result names Feishu's code.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import EXTERNAL_OPEN_ID, LI_LEI_OPEN_ID, ROOM_IDS, Sandbox, room_booking
from sandbox.seed import primary_calendar_id
from tests.e2e.harness import Harness, connected

pytestmark = pytest.mark.anyio

KUNLUN = ROOM_IDS[1]


async def new_event_id(mcp: Harness, **extra: Any) -> str:
    arguments = {"summary": "Planning", "start": "2026-11-25T15:00", "end": "2026-11-25T16:00", **extra}
    event: dict[str, Any] = (await mcp.call("create_event", **arguments))["event"]
    return str(event["event_id"])


async def test_removing_someone_twice_names_194000(sb: Sandbox, mcp: Harness) -> None:
    event_id = await new_event_id(mcp)
    added = await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    li_lei = next(a for a in added["items"] if a.get("user_id") == LI_LEI_OPEN_ID)
    await mcp.call("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    message = await mcp.fail("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    assert "194000" in message


async def test_a_user_of_another_tenant_names_195100_and_the_email_way(mcp: Harness) -> None:
    event_id = await new_event_id(mcp)
    outsider = [{"type": "user", "user_id": EXTERNAL_OPEN_ID}]
    message = await mcp.fail("add_attendees", event_id=event_id, attendees=outsider)
    assert "195100" in message and "third_party" in message


async def test_a_plain_attendee_cannot_invite(sb: Sandbox, mcp: Harness) -> None:
    event_id = await new_event_id(mcp)  # attendee_ability none
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    async with connected(sb, sb.issue_user_token(LI_LEI_OPEN_ID)) as li_lei:
        message = await li_lei.fail(
            "add_attendees",
            calendar_id=primary_calendar_id(LI_LEI_OPEN_ID),
            event_id=event_id,
            attendees=[{"type": "resource", "room_id": KUNLUN}],
        )
    assert "194002" in message


async def test_an_attendee_deleting_an_invitation_is_told_to_decline_it(sb: Sandbox, mcp: Harness) -> None:
    # 193002's general advice (attendees may change only visibility, ...) left no way to act on it.
    event_id = await new_event_id(mcp)
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    async with connected(sb, sb.issue_user_token(LI_LEI_OPEN_ID)) as li_lei:
        calendar = primary_calendar_id(LI_LEI_OPEN_ID)
        message = await li_lei.fail("delete_event", calendar_id=calendar, event_id=event_id)
        assert "193002" in message and "reply_event" in message and "decline" in message
        await li_lei.call("reply_event", calendar_id=calendar, event_id=event_id, rsvp_status="decline")


async def test_replying_to_an_event_one_is_not_invited_to_says_so(mcp: Harness) -> None:
    # 194000's general advice (get attendee ids from list_attendees) named ids reply_event does not take.
    event_id = await new_event_id(mcp)  # nobody invited: its organizer has no invitation either
    message = await mcp.fail("reply_event", event_id=event_id, rsvp_status="accept")
    assert "194000" in message and "not among this event's attendees" in message and "list_attendees" not in message


async def test_a_held_room_is_declined_and_not_free(mcp: Harness) -> None:
    # The seed's 1:1 holds Kunlun on Monday 14:00-14:30.
    event_id = await new_event_id(mcp, start="2026-11-23T14:00", end="2026-11-23T15:00")
    added = await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "resource", "room_id": KUNLUN}])
    assert next(a for a in added["items"] if a.get("room_id") == KUNLUN)["rsvp_status"] == "needs_action"
    mcp.sb.advance(room_booking.ANSWER_DELAY)  # the room answers a moment later, as on Feishu
    listed = await mcp.call("list_attendees", event_id=event_id)
    assert next(a for a in listed["items"] if a.get("room_id") == KUNLUN)["rsvp_status"] == "decline"
    rooms = await mcp.call("get_room_freebusy", room_ids=[KUNLUN], start="2026-11-23T14:00", end="2026-11-23T15:00")
    assert rooms["free_rooms"] == []
    assert [s["end"] for s in rooms["free_busy"][KUNLUN]] == ["2026-11-23T14:30:00+08:00"]


async def test_a_meeting_chat_needs_two_attendees(mcp: Harness) -> None:
    assert "195109" in await mcp.fail("create_meeting_chat", event_id=await new_event_id(mcp))


async def test_exchange_needs_a_super_admin(sb: Sandbox) -> None:
    async with connected(sb, sb.issue_user_token(LI_LEI_OPEN_ID)) as colleague:  # not an administrator
        message = await colleague.fail(
            "create_exchange_binding",
            admin_account="admin@corp.example",
            exchange_account="li.lei@corp.example",
            user_id=LI_LEI_OPEN_ID,
        )
    assert "195101" in message
