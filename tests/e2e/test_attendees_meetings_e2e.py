"""The attendee, meeting, room and account tools through a real MCP client against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import (
    ADMIN_OPEN_ID,
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    Sandbox,
)
from tests.e2e.harness import Harness, connected

pytestmark = pytest.mark.anyio

EVENTS = f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events"
EVEREST, KUNLUN, _ = ROOM_IDS


async def meeting(mcp: Harness, **extra: Any) -> str:
    arguments = {"summary": "Planning", "start": "2026-11-25T15:00", "end": "2026-11-25T16:00", **extra}
    event: dict[str, Any] = (await mcp.call("create_event", **arguments))["event"]
    return str(event["event_id"])


async def test_invite_list_and_remove(sb: Sandbox, mcp: Harness) -> None:
    event_id = await meeting(mcp, attendee_ability="can_see_others")
    added = await mcp.call(
        "add_attendees",
        event_id=event_id,
        attendees=[
            {"type": "user", "user_id": LI_LEI_OPEN_ID, "is_optional": True},
            {"type": "resource", "room_id": KUNLUN},
            {"type": "chat", "chat_id": DEMO_CHAT_ID},
        ],
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/attendees")
    assert sent.body["attendees"][0] == {"type": "user", "user_id": LI_LEI_OPEN_ID, "is_optional": True}
    rsvp = {a.get("user_id") or a.get("room_id") or a.get("chat_id"): a["rsvp_status"] for a in added["items"]}
    assert rsvp == {
        DEMO_USER_OPEN_ID: "accept",
        LI_LEI_OPEN_ID: "needs_action",
        KUNLUN: "accept",
        DEMO_CHAT_ID: "needs_action",
    }

    listed = await mcp.call("list_attendees", event_id=event_id, page_size=50)
    assert mcp.sent().query["page_size"] == "50" and len(listed["items"]) == 4
    chat = next(a for a in listed["items"] if a["type"] == "chat")
    members = await mcp.call("list_chat_members", event_id=event_id, attendee_id=chat["attendee_id"])
    assert mcp.sent().path.endswith(f"/attendees/{chat['attendee_id']}/chat_members")
    assert DEMO_USER_OPEN_ID in {m["open_id"] for m in members["items"]}

    li_lei = next(a for a in listed["items"] if a.get("user_id") == LI_LEI_OPEN_ID)
    removed = await mcp.call("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/attendees/batch_delete")
    assert sent.body["attendee_ids"] == [li_lei["attendee_id"]] and removed["ok"] is True
    assert sb.world.events[event_id].attendee_for_user(LI_LEI_OPEN_ID).rsvp_status == "removed"  # type: ignore[union-attr]
    message = await mcp.fail("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    assert "194000" in message


async def test_room_freebusy_names_the_free_rooms(mcp: Harness) -> None:
    result = await mcp.call(
        "get_room_freebusy", room_ids=[EVEREST, KUNLUN], time_min="2026-11-23T14:00", time_max="2026-11-23T15:00"
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", "/open-apis/meeting_room/freebusy/batch_get")
    assert sent.query["time_min"] == "2026-11-23T14:00:00+08:00"
    assert result["free_rooms"] == [EVEREST]  # the 1:1 holds Kunlun until 14:30
    assert [s["end_time"] for s in result["free_busy"][KUNLUN]] == ["2026-11-23T14:30:00+08:00"]


async def test_meeting_chat_and_minutes(sb: Sandbox, mcp: Harness) -> None:
    event_id = await meeting(mcp, attendee_ability="can_see_others")
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    chat = await mcp.call("create_meeting_chat", event_id=event_id)
    assert (mcp.sent().method, mcp.sent().path) == ("POST", f"{EVENTS}/{event_id}/meeting_chat")
    chat_id = chat["data"]["meeting_chat_id"]
    assert chat_id in sb.world.meeting_chats
    unbound = await mcp.call("unbind_meeting_chat", event_id=event_id, meeting_chat_id=chat_id)
    assert mcp.sent().query["meeting_chat_id"] == chat_id and unbound["ok"] is True
    assert sb.world.meeting_chats == {}
    minutes = await mcp.call("create_meeting_minutes", event_id=event_id)
    assert minutes["data"]["doc_url"] == sb.world.minutes[event_id].doc_url
    alone = await meeting(mcp, summary="Alone")
    assert "195109" in await mcp.fail("create_meeting_chat", event_id=alone)


async def test_subscriptions_and_caldav(sb: Sandbox, mcp: Harness) -> None:
    assert (await mcp.call("subscribe_events"))["ok"] is True
    assert mcp.sent().path == f"{EVENTS}/subscription"
    assert [s.calendar_id for s in sb.world.subscriptions] == [DEMO_PRIMARY_CALENDAR_ID]
    await mcp.call("unsubscribe_events")
    assert sb.world.subscriptions == []
    conf = await mcp.call("generate_caldav_config", device_name="Phone")
    assert conf["data"]["device_name"] == "Phone" and conf["data"]["password"] == sb.world.caldav[0].password


async def test_exchange_bindings_as_the_super_admin(sb: Sandbox, mcp: Harness) -> None:
    body = {"admin_account": "admin@corp.example", "exchange_account": "li.lei@corp.example", "user_id": LI_LEI_OPEN_ID}
    assert "195101" in await mcp.fail("create_exchange_binding", **body)  # the demo user is no admin
    async with connected(sb, token=sb.issue_user_token(ADMIN_OPEN_ID)) as admin:
        created = (await admin.call("create_exchange_binding", **body))["data"]
        binding_id = created["exchange_binding_id"]
        assert created["status"] == "doing"
        got = await admin.call("get_exchange_binding", exchange_binding_id=binding_id)
        assert got["data"]["exchange_account"] == "li.lei@corp.example"
        assert (await admin.call("delete_exchange_binding", exchange_binding_id=binding_id))["ok"] is True
        assert sb.world.exchange_bindings == {}
