"""Attendees: list with paging, room forms, chat members, and the SDK round trip of all four routes."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from lark_oapi.api.calendar.v4 import (
    BatchDeleteCalendarEventAttendeeRequest,
    BatchDeleteCalendarEventAttendeeRequestBody,
    CalendarEventAttendee,
    CreateCalendarEventAttendeeRequest,
    CreateCalendarEventAttendeeRequestBody,
    ListCalendarEventAttendeeChatMemberRequest,
    ListCalendarEventAttendeeRequest,
)

from sandbox import (
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
    running,
)
from sandbox.seed import add_user, primary_calendar_id
from tests.sandbox.helpers_attendees import (
    LI_LEI_CALENDAR,
    TAISHAN,
    add,
    attendees_path,
    by_id,
    monday_at,
    person,
    room,
)
from tests.sandbox.helpers_sandbox import (
    HOUR,
    WEEK_START,
    bearer,
    create,
    event_path,
    fails,
    ok,
    timed,
)
from tests.sandbox.lark_sdk import as_user, parsed, sdk_client

pytestmark = pytest.mark.anyio


# -- list and chat members ----------------------------------------------------------------------


async def test_list_pages_through_attendees(api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    await add(api, event_id, *({"type": "third_party", "third_party_email": f"g{i}@x.io"} for i in range(14)))
    first = ok(await api.get(attendees_path(event_id), params={"page_size": 3}))  # raised to 10
    assert len(first["items"]) == 10 and first["has_more"] is True
    second = ok(await api.get(attendees_path(event_id), params={"page_size": 10, "page_token": first["page_token"]}))
    assert len(second["items"]) == 5 and second["has_more"] is False and "page_token" not in second
    fails(await api.get(attendees_path(event_id), params={"page_size": 101}), 99992402, 400)
    fails(await api.get(attendees_path(event_id), params={"page_token": "garbage"}), 190008, 400)
    fails(await api.get(attendees_path(event_id), params={"user_id_type": "email"}), 99992402, 400)


async def test_list_needs_can_see_others(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)  # attendee_ability none
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    fails(await api.get(attendees_path(event_id, LI_LEI_CALENDAR), headers=as_li_lei), 194001, 403)
    fails(await api.get(attendees_path(f"{WEEKLY_SYNC_UID}_1")), 193001, 404)
    fails(await api.get(attendees_path(f"{WEEKLY_SYNC_UID}_{10**20}")), 193000, 400)


async def test_room_forms_only_for_editors(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16, attendee_ability="can_see_others")
    form = [{"index_key": "catering", "input_content": "coffee for 6"}]
    await add(api, event_id, person(LI_LEI_OPEN_ID), {**room(TAISHAN), "resource_customization": form})
    params = {"need_resource_customization": "true"}
    mine = by_id(ok(await api.get(attendees_path(event_id), params=params))["items"])
    assert mine[TAISHAN]["resource_customization"] == form
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    theirs = ok(await api.get(attendees_path(event_id, LI_LEI_CALENDAR), headers=as_li_lei, params=params))
    assert "resource_customization" not in by_id(theirs["items"])[TAISHAN]


async def test_chat_members_with_their_own_replies(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    listed = by_id(await add(api, event_id, {"type": "chat", "chat_id": DEMO_CHAT_ID}, person(HAN_MEIMEI_OPEN_ID)))
    as_han = bearer(sb.issue_user_token(HAN_MEIMEI_OPEN_ID))
    han_calendar = primary_calendar_id(HAN_MEIMEI_OPEN_ID)
    ok(await api.post(event_path(event_id, han_calendar) + "/reply", headers=as_han, json={"rsvp_status": "decline"}))
    path = attendees_path(event_id) + f"/{listed[DEMO_CHAT_ID]['attendee_id']}/chat_members"
    members = {m["open_id"]: m for m in ok(await api.get(path))["items"]}
    assert set(members) == {DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID}
    assert members[DEMO_USER_OPEN_ID]["is_organizer"] is True
    assert members[HAN_MEIMEI_OPEN_ID]["rsvp_status"] == "decline"
    assert members[WANG_FANG_OPEN_ID]["rsvp_status"] == "needs_action" and members[WANG_FANG_OPEN_ID]["display_name"]
    not_chat = attendees_path(event_id) + f"/{listed[HAN_MEIMEI_OPEN_ID]['attendee_id']}/chat_members"
    fails(await api.get(not_chat), 194004, 400)
    fails(await api.get(attendees_path(event_id) + "/chat_nothing/chat_members"), 194000, 404)


async def test_chat_members_need_membership(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    outsider = add_user(sb, "ou_sandbox0outsider00000000000099", "Outsider")
    token = sb.issue_user_token(outsider.open_id)
    async with sb.client(headers=bearer(token)) as theirs:
        calendar = primary_calendar_id(outsider.open_id)
        event: dict[str, Any] = await create(theirs, calendar, **timed(WEEK_START + 16 * HOUR, WEEK_START + 17 * HOUR))
        response = await theirs.post(
            attendees_path(event["event_id"], calendar), json={"attendees": [{"type": "chat", "chat_id": DEMO_CHAT_ID}]}
        )
        chat = by_id(ok(response)["attendees"])[DEMO_CHAT_ID]
        path = attendees_path(event["event_id"], calendar) + f"/{chat['attendee_id']}/chat_members"
        fails(await theirs.get(path), 194001, 403)


# -- through the official SDK ---------------------------------------------------------------------


def test_sdk_add_list_chat_members_and_remove(sb: Sandbox) -> None:
    event = sb.world.events["sandbox0one0on0one0lilei0000000002_0"]
    event_id = event.event_id
    with running(sb) as base_url:
        client, me = sdk_client(base_url), as_user(sb.demo_token)
        resource = client.calendar.v4.calendar_event_attendee
        new = [
            CalendarEventAttendee.builder().type("user").user_id(HAN_MEIMEI_OPEN_ID).is_optional(True).build(),
            CalendarEventAttendee.builder().type("chat").chat_id(DEMO_CHAT_ID).build(),
        ]
        body = CreateCalendarEventAttendeeRequestBody.builder().attendees(new).need_notification(False).build()
        create_request = (
            CreateCalendarEventAttendeeRequest.builder()
            .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
            .event_id(event_id)
            .user_id_type("open_id")
            .request_body(body)
            .build()
        )
        added = parsed(resource.create(create_request, me)).attendees
        han = next(a for a in added if a.user_id == HAN_MEIMEI_OPEN_ID)
        assert han.is_optional is True and han.rsvp_status == "needs_action"
        chat = next(a for a in added if a.type == "chat")

        list_request = (
            ListCalendarEventAttendeeRequest.builder()
            .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
            .event_id(event_id)
            .page_size(10)
            .build()
        )
        listing = parsed(resource.list(list_request, me))
        assert {a.attendee_id for a in listing.items} == {a.attendee_id for a in added}
        assert listing.has_more is False

        members_request = (
            ListCalendarEventAttendeeChatMemberRequest.builder()
            .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
            .event_id(event_id)
            .attendee_id(chat.attendee_id)
            .build()
        )
        members = parsed(client.calendar.v4.calendar_event_attendee_chat_member.list(members_request, me))
        assert DEMO_USER_OPEN_ID in {m.open_id for m in members.items}

        delete_body = BatchDeleteCalendarEventAttendeeRequestBody.builder().attendee_ids([han.attendee_id]).build()
        delete_request = (
            BatchDeleteCalendarEventAttendeeRequest.builder()
            .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
            .event_id(event_id)
            .request_body(delete_body)
            .build()
        )
        parsed(resource.batch_delete(delete_request, me))
        assert event.attendee_for_user(HAN_MEIMEI_OPEN_ID).rsvp_status == "removed"  # type: ignore[union-attr]
        again = resource.batch_delete(delete_request, me)
        assert again.code == 194000
