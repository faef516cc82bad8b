"""Attendees, meeting chats and minutes, rooms, subscriptions, CalDAV and Exchange through the MCP client."""

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


async def new_event_id(
    mcp: Harness, start: str = "2026-11-25T14:00", end: str = "2026-11-25T15:00", **extra: Any
) -> str:
    event = (await mcp.call("create_event", summary="Planning", start=start, end=end, **extra))["event"]
    return str(event["event_id"])


async def test_add_list_and_remove_attendees(mcp: Harness) -> None:
    event_id = await new_event_id(mcp)
    added = await mcp.call(
        "add_attendees",
        event_id=event_id,
        attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}, {"type": "resource", "room_id": ROOM_IDS[0]}],
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/attendees")
    assert sent.body["attendees"] == [
        {"type": "user", "user_id": LI_LEI_OPEN_ID},
        {"type": "resource", "room_id": ROOM_IDS[0]},
    ]
    assert {a.get("user_id") or a.get("room_id") for a in added["items"]} >= {LI_LEI_OPEN_ID, ROOM_IDS[0]}

    listed = await mcp.call("list_attendees", event_id=event_id, page_size=50)
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", f"{EVENTS}/{event_id}/attendees")
    li_lei = next(a for a in listed["items"] if a.get("user_id") == LI_LEI_OPEN_ID)

    removed = await mcp.call("remove_attendees", event_id=event_id, attendee_ids=[li_lei["attendee_id"]])
    assert removed["ok"] is True
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/attendees/batch_delete")
    assert sent.body["attendee_ids"] == [li_lei["attendee_id"]]
    remaining = await mcp.call("list_attendees", event_id=event_id)
    assert LI_LEI_OPEN_ID not in {a.get("user_id") for a in remaining["items"]}


async def test_chat_attendee_members(mcp: Harness) -> None:
    event_id = await new_event_id(mcp)
    added = await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "chat", "chat_id": DEMO_CHAT_ID}])
    chat = next(a for a in added["items"] if a.get("chat_id") == DEMO_CHAT_ID)
    members = await mcp.call("list_chat_members", event_id=event_id, attendee_id=chat["attendee_id"])
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", f"{EVENTS}/{event_id}/attendees/{chat['attendee_id']}/chat_members")
    assert members["items"] and all("open_id" in m or "user_id" in m for m in members["items"])


async def test_meeting_chat_create_and_unbind(mcp: Harness) -> None:
    event_id = await new_event_id(mcp)
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    created = await mcp.call("create_meeting_chat", event_id=event_id)
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/meeting_chat")
    chat_id = created["data"]["meeting_chat_id"]
    assert chat_id.startswith("oc_")
    unbound = await mcp.call("unbind_meeting_chat", event_id=event_id, meeting_chat_id=chat_id)
    assert unbound["ok"] is True
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("DELETE", f"{EVENTS}/{event_id}/meeting_chat")
    assert sent.query["meeting_chat_id"] == chat_id


async def test_meeting_minutes(mcp: Harness) -> None:
    event_id = await new_event_id(mcp, attendee_ability="can_see_others")
    alone = await mcp.fail("create_meeting_minutes", event_id=event_id)
    assert "195110" in alone and "attendee" in alone  # Feishu wants someone to take minutes for
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "user_id": LI_LEI_OPEN_ID}])
    result = await mcp.call("create_meeting_minutes", event_id=event_id)
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{event_id}/meeting_minute")
    assert result["data"]["doc_url"].startswith("https://")


async def test_room_freebusy_follows_bookings(mcp: Harness) -> None:
    event_id = await new_event_id(mcp, "2026-11-25T09:00", "2026-11-25T10:00")
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "resource", "room_id": ROOM_IDS[1]}])
    result = await mcp.call(
        "get_room_freebusy", room_ids=list(ROOM_IDS), start="2026-11-25T09:00", end="2026-11-25T10:00"
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", "/open-apis/meeting_room/freebusy/batch_get")
    assert sent.query["room_ids"] == list(ROOM_IDS)
    assert sent.query["time_min"] == "2026-11-25T09:00:00+08:00"
    assert ROOM_IDS[1] not in result["free_rooms"]
    assert result["free_rooms"] == [room for room in ROOM_IDS if room in result["free_rooms"]]


async def test_room_freebusy_takes_room_names(mcp: Harness) -> None:
    # README: names work wherever ids are wanted; a name used to go to Feishu as an id (190002).
    event_id = await new_event_id(mcp, "2026-11-25T09:00", "2026-11-25T10:00")
    await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "resource", "room_id": ROOM_IDS[1]}])
    result = await mcp.call(
        "get_room_freebusy", room_ids=["Everest", ROOM_IDS[1]], start="2026-11-25T09:00", end="2026-11-25T10:00"
    )
    assert mcp.sent().query["room_ids"] == [ROOM_IDS[0], ROOM_IDS[1]]
    assert result["free_rooms"] == [ROOM_IDS[0]]
    assert set(result["free_busy"]) >= {ROOM_IDS[1]}
    assert "no meeting room" in await mcp.fail(
        "get_room_freebusy", room_ids=["Atlantis"], start="2026-11-25T09:00", end="2026-11-25T10:00"
    )


async def test_subscribe_and_unsubscribe(mcp: Harness) -> None:
    assert (await mcp.call("subscribe_events"))["ok"] is True
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/subscription")
    assert (await mcp.call("unsubscribe_events"))["ok"] is True
    assert mcp.sent().path == f"{EVENTS}/unsubscription"


async def test_caldav_config(mcp: Harness) -> None:
    result = await mcp.call("generate_caldav_config", device_name="iPhone")
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", "/open-apis/calendar/v4/settings/generate_caldav_conf")
    assert sent.body == {"device_name": "iPhone"}
    assert result["data"]["server_address"] and result["data"]["user_name"]


async def test_exchange_binding_lifecycle_as_admin(sb: Sandbox) -> None:
    async with connected(sb, sb.issue_user_token(ADMIN_OPEN_ID)) as admin:
        created = await admin.call(
            "create_exchange_binding",
            admin_account="admin@example.com",
            exchange_account="demo@example.com",
            user_id=DEMO_USER_OPEN_ID,
        )
        sent = admin.sent()
        assert (sent.method, sent.path) == ("POST", "/open-apis/calendar/v4/exchange_bindings")
        binding_id = created["data"]["exchange_binding_id"]
        fetched = await admin.call("get_exchange_binding", exchange_binding_id=binding_id)
        assert admin.sent().path == f"/open-apis/calendar/v4/exchange_bindings/{binding_id}"
        assert fetched["data"]["exchange_account"] == "demo@example.com"
        assert (await admin.call("delete_exchange_binding", exchange_binding_id=binding_id))["ok"] is True
        assert admin.sent().method == "DELETE"


async def test_who_am_i_and_time(mcp: Harness) -> None:
    result: dict[str, Any] = await mcp.call("get_current_context")
    assert mcp.sent().path == "/open-apis/authen/v1/user_info"
    assert result["user"]["open_id"] == DEMO_USER_OPEN_ID
    assert result["timezone"] == "Asia/Shanghai"
    assert result["today"]["start"].endswith("T00:00:00+08:00")
    assert result["now"] >= result["today"]["start"] and result["now"] < result["today"]["end"]


@pytest.mark.parametrize("me", ["me", "Me", "myself", "我"])
async def test_me_is_the_signed_in_user_wherever_people_are_named(mcp: Harness, me: str) -> None:
    # Searched as a name, "me" found 韩梅梅 (Han Meimei) and her calendar was reported as the user's.
    window = {"start": "2026-11-24", "end": "2026-11-24"}
    busy = await mcp.call("get_free_busy", people=[me, "Li Lei"], **window)
    assert [item["id"] for item in busy["items"]] == [DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID]
    event_id = await new_event_id(mcp)
    added = await mcp.call("add_attendees", event_id=event_id, attendees=[{"type": "user", "name": me}])
    assert [a["user_id"] for a in added["items"] if a.get("type") == "user"] == [DEMO_USER_OPEN_ID]


async def test_remove_attendees_by_their_own_ids_and_email(mcp: Harness) -> None:
    # An open_id (from find_people, or list_attendees' user_id), a room id or an email where an
    # attendee_id is wanted went to Feishu as attendee_ids and came back 194000; batch_delete.md's
    # delete_ids names attendees by exactly these.
    event_id = await new_event_id(mcp)
    invited = [
        {"type": "user", "user_id": LI_LEI_OPEN_ID},
        {"type": "resource", "room_id": ROOM_IDS[0]},
        {"type": "third_party", "third_party_email": "guest@acme.example"},
    ]
    added = await mcp.call("add_attendees", event_id=event_id, attendees=invited)
    me = next(a["attendee_id"] for a in added["items"] if a.get("user_id") == DEMO_USER_OPEN_ID)
    await mcp.call(
        "remove_attendees", event_id=event_id, attendee_ids=[LI_LEI_OPEN_ID, ROOM_IDS[0], "guest@acme.example"]
    )
    sent = mcp.sent()
    assert sent.body == {
        "delete_ids": [
            {"type": "user", "user_id": LI_LEI_OPEN_ID},
            {"type": "resource", "room_id": ROOM_IDS[0]},
            {"type": "third_party", "third_party_email": "guest@acme.example"},
        ]
    }
    left = await mcp.call("list_attendees", event_id=event_id)
    assert [a["attendee_id"] for a in left["items"]] == [me]
