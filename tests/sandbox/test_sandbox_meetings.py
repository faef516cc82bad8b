"""Meeting chats (create, unbind) and meeting minutes of an event."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from lark_oapi.api.calendar.v4 import (
    CreateCalendarEventMeetingChatRequest,
    CreateCalendarEventMeetingMinuteRequest,
    DeleteCalendarEventMeetingChatRequest,
)

from sandbox import (
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    TEAM_CALENDAR_ID,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
    running,
)
from sandbox.seed import primary_calendar_id
from tests.sandbox.helpers_sandbox import HOUR, WEEK_START, bearer, create, event_path, fails, ok, timed
from tests.sandbox.lark_sdk import as_user, parsed, sdk_client

pytestmark = pytest.mark.anyio

WEEKLY = f"{WEEKLY_SYNC_UID}_0"  # the demo user's, with three colleagues and a room; can_see_others


def chat_path(event_id: str, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID) -> str:
    return event_path(event_id, calendar_id) + "/meeting_chat"


def minute_path(event_id: str, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID) -> str:
    return event_path(event_id, calendar_id) + "/meeting_minute"


async def new_event(api: httpx2.AsyncClient, *people: dict[str, Any], **fields: Any) -> str:
    start = WEEK_START + 16 * HOUR
    event: dict[str, Any] = await create(api, **timed(start, start + HOUR, summary="Kick-off", **fields))
    if people:
        ok(await api.post(event_path(event["event_id"]) + "/attendees", json={"attendees": list(people)}))
    return str(event["event_id"])


# -- meeting chat -------------------------------------------------------------------------------


async def test_create_meeting_chat_makes_a_chat_of_the_attendees(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    created = ok(await api.post(chat_path(WEEKLY)))
    chat_id = created["meeting_chat_id"]
    assert chat_id.startswith("oc_") and created["applink"].startswith("https://applink.feishu.cn/")
    chat = sb.world.chats[chat_id]
    assert chat.owner_open_id == DEMO_USER_OPEN_ID and chat.name == "Weekly product sync"
    assert set(chat.member_open_ids) == {DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID}
    assert sb.world.meeting_chats[chat_id].event_id == WEEKLY
    # One chat per event.
    fails(await api.post(chat_path(WEEKLY)), 195109, 400)


async def test_chat_attendees_bring_their_members(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await new_event(api, {"type": "chat", "chat_id": DEMO_CHAT_ID})
    chat_id = ok(await api.post(chat_path(event_id)))["meeting_chat_id"]
    assert set(sb.world.chats[chat_id].member_open_ids) == set(sb.world.chats[DEMO_CHAT_ID].member_open_ids)


async def test_create_meeting_chat_refusals(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    alone = await new_event(api)
    fails(await api.post(chat_path(alone)), 195109, 400)  # no attendees
    # Only on the caller's own primary calendar.
    team_event: dict[str, Any] = await create(
        api, TEAM_CALENDAR_ID, **timed(WEEK_START + 9 * HOUR, WEEK_START + 10 * HOUR)
    )
    fails(await api.post(chat_path(team_event["event_id"], TEAM_CALENDAR_ID)), 195109, 400)
    # An attendee who may not see the other attendees cannot make their chat.
    hidden = await new_event(api, {"type": "user", "user_id": LI_LEI_OPEN_ID})  # attendee_ability none
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    li_lei_calendar = primary_calendar_id(LI_LEI_OPEN_ID)
    fails(await api.post(chat_path(hidden, li_lei_calendar), headers=as_li_lei), 195109, 400)
    fails(await api.post(chat_path("nothing_0")), 193001, 404)
    assert sb.world.meeting_chats == {}


async def test_unbind_meeting_chat(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    chat_id = ok(await api.post(chat_path(WEEKLY)))["meeting_chat_id"]
    other = await new_event(api, {"type": "user", "user_id": LI_LEI_OPEN_ID})
    fails(await api.delete(chat_path(other), params={"meeting_chat_id": chat_id}), 195108, 400)
    fails(await api.delete(chat_path(WEEKLY), params={"meeting_chat_id": DEMO_CHAT_ID}), 195108, 400)
    fails(await api.delete(chat_path(WEEKLY)), 190002, 400)
    assert ok(await api.delete(chat_path(WEEKLY), params={"meeting_chat_id": chat_id})) == {}
    assert sb.world.meeting_chats == {} and chat_id in sb.world.chats  # the chat itself stays
    fails(await api.delete(chat_path(WEEKLY), params={"meeting_chat_id": chat_id}), 195108, 400)
    # Unbound, the event can have a new chat.
    assert ok(await api.post(chat_path(WEEKLY)))["meeting_chat_id"] != chat_id


async def test_only_the_chat_owner_unbinds(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await new_event(api, {"type": "user", "user_id": LI_LEI_OPEN_ID}, attendee_ability="can_modify_event")
    chat_id = ok(await api.post(chat_path(event_id)))["meeting_chat_id"]
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    li_lei_calendar = primary_calendar_id(LI_LEI_OPEN_ID)
    refused = await api.delete(
        chat_path(event_id, li_lei_calendar), headers=as_li_lei, params={"meeting_chat_id": chat_id}
    )
    fails(refused, 195107, 403)
    assert chat_id in sb.world.meeting_chats


# -- meeting minutes ----------------------------------------------------------------------------


async def test_minutes_once_per_event(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    doc_url = ok(await api.post(minute_path(WEEKLY)))["doc_url"]
    assert doc_url.startswith("https://") and sb.world.minutes[WEEKLY].doc_url == doc_url
    assert ok(await api.post(minute_path(WEEKLY)))["doc_url"] == doc_url


async def test_minutes_refusals(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    fails(await api.post(minute_path(await new_event(api, attendee_ability="can_see_others"))), 195110, 400)
    closed = await new_event(api, {"type": "user", "user_id": LI_LEI_OPEN_ID})  # attendee_ability none
    fails(await api.post(minute_path(closed)), 195110, 400)
    team_event: dict[str, Any] = await create(
        api, TEAM_CALENDAR_ID, **timed(WEEK_START + 9 * HOUR, WEEK_START + 10 * HOUR)
    )
    fails(await api.post(minute_path(team_event["event_id"], TEAM_CALENDAR_ID)), 195110, 400)
    assert sb.world.minutes == {}


# -- through the official SDK ---------------------------------------------------------------------


def on_weekly(builder: Any) -> Any:
    """An SDK request builder aimed at the weekly sync on the demo user's calendar."""
    return builder.calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(WEEKLY)


def test_sdk_meeting_chat_and_minutes(sb: Sandbox) -> None:
    with running(sb) as base_url:
        client, me = sdk_client(base_url), as_user(sb.demo_token)
        chats = client.calendar.v4.calendar_event_meeting_chat
        chat = parsed(chats.create(on_weekly(CreateCalendarEventMeetingChatRequest.builder()).build(), me))
        assert chat.meeting_chat_id in sb.world.meeting_chats and chat.applink
        unbind = on_weekly(DeleteCalendarEventMeetingChatRequest.builder()).meeting_chat_id(chat.meeting_chat_id)
        parsed(chats.delete(unbind.build(), me))
        assert sb.world.meeting_chats == {}
        minute = on_weekly(CreateCalendarEventMeetingMinuteRequest.builder()).build()
        made = parsed(client.calendar.v4.calendar_event_meeting_minute.create(minute, me))
        assert made.doc_url == sb.world.minutes[WEEKLY].doc_url
