"""The scheduling endpoints the last stop left unlike Feishu, as a user of the official lark-oapi SDK
meets them: public chats in chat search, the room-level search by custom ids, the suggestion's
``event_rrule``, and ``delete_exception`` on an occurrence (what Feishu's CLI sends before a
series-wide change). Same pattern as test_sandbox_scheduling_fidelity.py: the SDK's request objects,
sent to the sandbox on loopback, read back through the SDK's models.
"""

from __future__ import annotations

import json
from typing import Any

import lark_oapi as lark
from lark_oapi.api.calendar.v4 import (
    CalendarEventAttendee,
    CreateCalendarEventAttendeeRequest,
    CreateCalendarEventAttendeeRequestBody,
    CreateCalendarEventRequest,
    DeleteCalendarEventRequest,
    InstancesCalendarEventRequest,
    PatchCalendarEventRequest,
)
from lark_oapi.api.im.v1 import GetChatMembersRequest, SearchChatRequest
from lark_oapi.api.vc.v1 import GetRoomLevelRequest, SearchRoomLevelRequest

from sandbox import DEMO_CHAT_ID, DEMO_PRIMARY_CALENDAR_ID, EXTERNAL_OPEN_ID, ROOM_IDS, Sandbox, add_user
from sandbox.seed_directory import DESIGN_CHAT_ID, FRONTEND_CHAT_ID, open_id
from tests.sandbox.helpers_sandbox import DAY, HOUR, WEEK_START
from tests.sandbox.lark_sdk import as_user, new_event, parsed
from tests.sandbox.test_sandbox_scheduling_fidelity import app_option, refused


def search(client: Any, option: Any, query: str, **params: Any) -> Any:
    builder = SearchChatRequest.builder().query(query)
    for name, value in params.items():
        builder = getattr(builder, name)(value)
    return client.im.v1.chat.search(builder.build(), option)


def members(client: Any, option: Any, chat_id: str) -> Any:
    return client.im.v1.chat_members.get(GetChatMembersRequest.builder().chat_id(chat_id).build(), option)


def test_chat_search_finds_public_chats_the_user_is_not_in_page_by_page(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # search.md: the chats visible to the identity, "the ones it is in and the ones public to it".
    assert sb.demo_user.open_id not in sb.world.chats[FRONTEND_CHAT_ID].member_open_ids
    seen: list[Any] = []
    token = None
    while True:
        more: dict[str, str] = {"page_token": token} if token else {}
        page = parsed(search(client, as_demo, "guild", page_size=1, **more))
        assert len(page.items) == 1
        seen += page.items
        if not page.has_more:
            assert page.page_token is None
            break
        token = page.page_token
    assert [c.chat_id for c in seen] == [DESIGN_CHAT_ID, FRONTEND_CHAT_ID]
    public = seen[1]
    owner = sb.world.users[open_id("yang0fan")]
    assert (public.name, public.owner_id, public.owner_id_type, public.external, public.chat_status) == (
        "Frontend guild 前端",
        owner.open_id,
        "open_id",
        False,
        "normal",
    )
    assert public.tenant_key == sb.demo_user.tenant_key and public.avatar
    # A member's name finds the public chat too ("关键词支持匹配群国际化名称、群成员名称").
    assert FRONTEND_CHAT_ID in [c.chat_id for c in parsed(search(client, as_demo, "Lin Na")).items]


def test_a_public_chat_lists_its_members_to_members_only(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # chat-member/get.md: "the operator (bot or user) must be in the chat"; 232011 otherwise.
    refused(members(client, as_demo, FRONTEND_CHAT_ID), 232011, 400)
    member = as_user(sb.issue_user_token(open_id("lin0na")))
    listed = parsed(members(client, member, FRONTEND_CHAT_ID))
    assert [m.member_id for m in listed.items] == sb.world.chats[FRONTEND_CHAT_ID].member_open_ids
    assert listed.member_total == 3


def test_private_chats_and_other_tenants_public_chats_stay_hidden(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # The private "Backend team" is not the demo user's: search does not show it.
    assert parsed(search(client, as_demo, "Backend team")).items == []
    outsider = as_user(sb.issue_user_token(EXTERNAL_OPEN_ID))
    found = parsed(search(client, outsider, "guild"))
    assert found.items == [] and found.has_more is False
    # A chat the demo user is in is found as before.
    assert [c.chat_id for c in parsed(search(client, as_demo, "Product team")).items] == [DEMO_CHAT_ID]


def test_room_levels_by_custom_ids_for_the_app_identity(base_url: str, client: Any, as_demo: Any) -> None:
    levels = client.vc.v1.room_level
    option = app_option(base_url)
    building = parsed(levels.get(GetRoomLevelRequest.builder().room_level_id("omb_sandbox0building0a").build(), option))
    custom = building.room_level.custom_group_id
    wanted = f"{custom},sandbox0city0beijing,no0such0level,{custom}"  # search.md: "1000,1001"
    found = parsed(levels.search(SearchRoomLevelRequest.builder().custom_level_ids(wanted).build(), option))
    assert found.level_ids == ["omb_sandbox0building0a", "omb_sandbox0city0beijing"]
    nothing = parsed(levels.search(SearchRoomLevelRequest.builder().custom_level_ids("no0such0level").build(), option))
    assert nothing.level_ids == []
    refused(levels.search(SearchRoomLevelRequest.builder().build(), option), 121003, 400)  # required
    # The page takes tenant_access_token only. The SDK never sends a user token for it (its request
    # says TENANT); a client that does, through the SDK's generic request, is refused by the gateway.
    as_user_request = (
        lark.BaseRequest.builder()
        .http_method(lark.HttpMethod.GET)
        .uri("/open-apis/vc/v1/room_levels/search")
        .token_types({lark.AccessTokenType.USER})
        .queries([("custom_level_ids", custom)])
        .build()
    )
    answer = client.request(as_user_request, as_demo)  # the generic request leaves the reply unparsed
    assert (answer.raw.status_code, json.loads(answer.raw.content)["code"]) == (400, 99991668)
    assert answer.get_log_id()


SOLO = "ou_sandbox0solo0person000000000000"  # someone with one meeting, so the slots are plain
TUESDAY_9 = WEEK_START + DAY + 9 * HOUR
THURSDAY_14 = WEEK_START + 3 * DAY + 14 * HOUR


def undocumented(client: Any, option: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """An undocumented endpoint through the SDK's generic request, as the CLI sends it."""
    request = (
        lark.BaseRequest.builder()
        .http_method(lark.HttpMethod.POST)
        .uri("/open-apis/calendar/v4/freebusy/" + path)
        .token_types({lark.AccessTokenType.USER})
        .body(body)
        .build()
    )
    answer: dict[str, Any] = json.loads(client.request(request, option).raw.content)
    return answer


def suggest(client: Any, option: Any, **body: Any) -> dict[str, Any]:
    window = {"search_start_time": "2026-11-24T09:00:00+08:00", "search_end_time": "2026-11-27T18:00:00+08:00"}
    return undocumented(
        client, option, "suggestion", {**window, "timezone": "Asia/Shanghai", "duration_minutes": 60, **body}
    )


def starts_of(answer: dict[str, Any]) -> list[str]:
    assert answer["code"] == 0, answer
    return [s["event_start_time"] for s in answer["data"]["suggestions"]]


def test_a_suggested_slot_is_free_at_every_occurrence_of_event_rrule(client: Any, sb: Sandbox) -> None:
    add_user(sb, SOLO, "Solo")
    solo = as_user(sb.issue_user_token(SOLO))
    calendar_id = sb.world.primary_calendar(SOLO).calendar_id  # type: ignore[union-attr]
    thursday = new_event("Thursday only", THURSDAY_14, THURSDAY_14 + HOUR)
    create = CreateCalendarEventRequest.builder().calendar_id(calendar_id).request_body(thursday).build()
    parsed(client.calendar.v4.calendar_event.create(create, solo))
    tuesday = [f"2026-11-24T{h:02d}:{m:02d}:00+08:00" for h in range(9, 14) for m in (0, 30)]
    # One meeting: Tuesday 13:30 is free (the 10th slot).
    assert starts_of(suggest(client, solo)) == tuesday
    # Daily until Friday: Tuesday 13:30-14:30 would meet Thursday's 14:00 on its third day.
    daily = suggest(client, solo, event_rrule="FREQ=DAILY;UNTIL=20261127T235959Z")
    assert starts_of(daily) == [*tuesday[:-1], "2026-11-24T15:00:00+08:00"]
    assert daily["data"]["suggestions"][0]["recommend_reason"].endswith("all 4 occurrences in the searched time")
    # Weekly on Thursdays: a slot is the rule's first occurrence, so Tuesday's are none of them.
    thursdays = starts_of(suggest(client, solo, event_rrule="RRULE:FREQ=WEEKLY;BYDAY=TH"))
    assert thursdays[0] == "2026-11-26T09:00:00+08:00" and "2026-11-26T14:00:00+08:00" not in thursdays
    assert all(s.startswith("2026-11-26") for s in thursdays)


def test_event_rrule_with_count_or_not_a_rule_is_refused(client: Any, as_demo: Any) -> None:
    # The CLI's skill: "the system does not support COUNT at all; convert it to UNTIL".
    for rule, why in (("FREQ=DAILY;COUNT=3", "COUNT is not supported"), ("DAILY", "FREQ is required")):
        answer = suggest(client, as_demo, event_rrule=rule)
        assert answer["code"] == 190002, answer
        violation = answer["error"]["field_violations"][0]
        assert violation["field"] == "event_rrule" and why in violation["description"]


def test_delete_exception_gives_an_occurrence_back_to_its_series(client: Any, as_demo: Any) -> None:
    events = client.calendar.v4.calendar_event
    monday_8 = WEEK_START + 7 * DAY + 8 * HOUR  # Mondays from next week, four times
    series = new_event("Weekly", monday_8, monday_8 + HOUR, recurrence="FREQ=WEEKLY;COUNT=4")
    create = CreateCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(series).build()
    uid = parsed(events.create(create, as_demo)).event.event_id.rsplit("_", 1)[0]
    second, third = monday_8 + 7 * DAY, monday_8 + 14 * DAY
    moved = new_event("Weekly (moved)", second + HOUR, second + 2 * HOUR)
    patch = PatchCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(f"{uid}_{second}")
    parsed(events.patch(patch.request_body(moved).build(), as_demo))

    def delete(original: int, destroy: bool) -> Any:
        request = DeleteCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        built = request.event_id(f"{uid}_{original}").need_notification("false").build()
        if destroy:
            built.add_query("delete_exception", "true")  # not in the SDK: the CLI adds it to the query
        return events.delete(built, as_demo)

    def shown() -> list[tuple[str, str]]:
        """(start, title) of the occurrences that take place (instances lists cancelled ones too)."""
        window = InstancesCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(f"{uid}_0")
        request = window.start_time(str(monday_8)).end_time(str(monday_8 + 28 * DAY)).build()
        items = parsed(events.instances(request, as_demo)).items
        return [(i.start_time.timestamp, i.summary) for i in items if i.status != "cancelled"]

    parsed(delete(third, destroy=False))  # a plain delete: the occurrence stays cancelled
    assert [t for t, _ in shown()] == [str(monday_8), str(second + HOUR), str(monday_8 + 21 * DAY)]
    parsed(delete(second, destroy=True))  # the changed one: back to the series' time and title
    parsed(delete(third, destroy=True))  # the cancelled one: takes place again
    assert shown() == [(str(monday_8 + k * 7 * DAY), "Weekly") for k in range(4)]
    parsed(delete(third, destroy=True))  # again (a retry): nothing left to remove, nothing cancelled
    assert shown() == [(str(monday_8 + k * 7 * DAY), "Weekly") for k in range(4)]


def test_room_find_with_event_rrule_says_how_long_a_room_stays_free(client: Any, as_demo: Any) -> None:
    # The CLI's skill: reserve_until_time is how late the room may be booked; a series is cut to it.
    events = client.calendar.v4.calendar_event
    dec_8 = WEEK_START + 15 * DAY + 20 * HOUR  # Tuesday 2026-12-08 20:00, two weeks after the slot
    event = new_event("Evening talk", dec_8, dec_8 + HOUR)
    create = CreateCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(event).build()
    event_id = parsed(events.create(create, as_demo)).event.event_id
    room = CalendarEventAttendee.builder().type("resource").room_id(ROOM_IDS[0]).build()
    body = CreateCalendarEventAttendeeRequestBody.builder().attendees([room]).build()
    book = CreateCalendarEventAttendeeRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(event_id)
    parsed(client.calendar.v4.calendar_event_attendee.create(book.request_body(body).build(), as_demo))
    slot = {
        "event_start_time": "2026-11-24T20:00:00+08:00",
        "event_end_time": "2026-11-24T21:00:00+08:00",
        "timezone": "Asia/Shanghai",
    }

    def until(**more: Any) -> dict[str, str]:
        answer = undocumented(client, as_demo, "room_find", {**slot, **more})
        assert answer["code"] == 0, answer
        return {r["room_id"]: r["reserve_until_time"] for r in answer["data"]["available_rooms"]}

    horizon = "2028-11-22T10:00:00+08:00"  # two years from the pinned now
    assert until()[ROOM_IDS[0]] == horizon  # one slot: free
    weekly = until(event_rrule="FREQ=WEEKLY;UNTIL=20261231")
    assert weekly[ROOM_IDS[0]] == "2026-12-01T21:00:00+08:00"  # the end of the last free Tuesday
    assert weekly[ROOM_IDS[2]] == horizon
    answer = undocumented(client, as_demo, "room_find", {**slot, "event_rrule": "FREQ=WEEKLY;COUNT=3"})
    assert answer["code"] == 190002 and answer["error"]["field_violations"][0]["field"] == "event_rrule"
