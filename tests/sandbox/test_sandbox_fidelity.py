"""Where the sandbox once behaved unlike Feishu (issue 10, point 8), driven through the official SDK.

Each test states the documented behaviour (or, where the docs are silent, the sandbox's stated
assumption in sandbox/README.md) and checks it with lark-oapi against the sandbox on loopback.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import lark_oapi as lark
from lark_oapi.api.calendar.v4 import (
    CalendarEvent,
    CalendarEventAttendee,
    CreateCalendarEventAttendeeRequest,
    CreateCalendarEventAttendeeRequestBody,
    CreateCalendarEventRequest,
    EventSearchFilter,
    GetCalendarEventRequest,
    InstancesCalendarEventRequest,
    ListCalendarEventAttendeeChatMemberRequest,
    ListCalendarEventAttendeeRequest,
    ListCalendarEventRequest,
    PatchCalendarEventRequest,
    Reminder,
    ReplyCalendarEventRequest,
    ReplyCalendarEventRequestBody,
    SearchCalendarEventRequest,
    SearchCalendarEventRequestBody,
)

from sandbox import (
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    Sandbox,
    room_booking,
)
from tests.sandbox.helpers_sandbox import DAY, FIXED_NOW, HOUR
from tests.sandbox.lark_sdk import as_user, new_event, parsed, when

SHANGHAI = ZoneInfo("Asia/Shanghai")


def list_request(**query: Any) -> Any:
    builder = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID)
    for name, value in query.items():
        builder = getattr(builder, name)(value)
    return builder.build()


def test_a_unicode_digit_is_not_a_timestamp(client: Any, as_demo: Any) -> None:
    # "¹".isdigit() is True in Python but int("¹") fails: this once answered 500.
    refused = client.calendar.v4.calendar_event.list(list_request(start_time="¹", end_time="1795399200"), as_demo)
    assert refused.code == 190002 and refused.error["field_violations"][0]["field"] == "start_time"


def probe(client: Any, option: Any, summary: str, start: int, **extra: Any) -> Any:
    event = new_event(summary, start, start + HOUR, **extra)
    request = CreateCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(event)
    return parsed(client.calendar.v4.calendar_event.create(request.build(), option)).event


def search(client: Any, option: Any, text: str, search_filter: Any = None) -> list[str]:
    body = SearchCalendarEventRequestBody.builder().query(text)
    if search_filter is not None:
        body = body.filter(search_filter)
    request = SearchCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(body.build())
    return [e.summary for e in parsed(client.calendar.v4.calendar_event.search(request.build(), option)).items or []]


def test_search_without_a_time_filter_covers_the_recent_month(client: Any, as_demo: Any) -> None:
    # search.md: without start_time and end_time the search covers "近一个月" (the recent month).
    now = int(FIXED_NOW)
    for name, start in (("probe -40d", now - 40 * DAY), ("probe -10d", now - 10 * DAY), ("probe +1d", now + DAY)):
        probe(client, as_demo, name, start)
    assert search(client, as_demo, "probe") == ["probe -10d"]
    everything = EventSearchFilter.builder().start_time(when(now - 60 * DAY)).end_time(when(now + 60 * DAY)).build()
    assert search(client, as_demo, "probe", everything) == ["probe -40d", "probe -10d", "probe +1d"]
    from_now_on = EventSearchFilter.builder().start_time(when(now)).build()  # one bound: the other side is open
    assert search(client, as_demo, "probe", from_now_on) == ["probe +1d"]


def listed(client: Any, option: Any, **query: Any) -> Any:
    return parsed(client.calendar.v4.calendar_event.list(list_request(**query), option))


def test_only_a_listing_with_anchor_time_pages(client: Any, as_demo: Any) -> None:
    # list.md: a page_token comes back only when anchor_time was passed.
    for hour in range(60):
        probe(client, as_demo, f"slot {hour}", int(FIXED_NOW) + 30 * DAY + hour * HOUR)
    plain = listed(client, as_demo, page_size=50)
    assert len(plain.items) == 50 and plain.has_more is True
    assert plain.page_token is None and plain.sync_token is None
    anchored = listed(client, as_demo, page_size=50, anchor_time="0")
    assert anchored.has_more is True and anchored.page_token and anchored.sync_token is None
    rest = listed(client, as_demo, page_size=50, anchor_time="0", page_token=anchored.page_token)
    assert rest.has_more is False and rest.page_token is None and rest.sync_token


def test_anchor_time_with_sync_token_syncs_what_changed_after_the_anchor(client: Any, as_demo: Any) -> None:
    # list.md: "可使用 page_token 或 sync_token 进行分页或增量拉取 anchor_time 之后的所有日程数据".
    anchor = str(int(FIXED_NOW))
    first = listed(client, as_demo, anchor_time=anchor)
    assert first.has_more is False and first.sync_token
    probe(client, as_demo, "before the anchor", int(FIXED_NOW) - 2 * DAY)
    later = probe(client, as_demo, "after the anchor", int(FIXED_NOW) + 2 * DAY)
    changes = listed(client, as_demo, anchor_time=anchor, sync_token=first.sync_token)
    assert [e.event_id for e in changes.items] == [later.event_id] and changes.sync_token
    everything = listed(client, as_demo, sync_token=first.sync_token)
    assert {e.summary for e in everything.items} == {"before the anchor", "after the anchor"}
    window = list_request(start_time=anchor, end_time=str(int(FIXED_NOW) + DAY), sync_token=first.sync_token)
    assert client.calendar.v4.calendar_event.list(window, as_demo).code == 190009  # a window cannot sync


def add_attendees(client: Any, option: Any, event_id: str, *attendees: Any, calendar: str = "") -> Any:
    body = CreateCalendarEventAttendeeRequestBody.builder().attendees(list(attendees)).need_notification(False)
    request = (
        CreateCalendarEventAttendeeRequest.builder()
        .calendar_id(calendar or DEMO_PRIMARY_CALENDAR_ID)
        .event_id(event_id)
        .request_body(body.build())
        .build()
    )
    return client.calendar.v4.calendar_event_attendee.create(request, option)


def test_a_user_of_another_tenant_cannot_be_added(client: Any, as_demo: Any) -> None:
    # attendee create.md: "新添加的日程参与人必须与日程组织者在同一个企业内"; its error table's 195100 is
    # "user is dismiss or not exist in the tenant".
    event = probe(client, as_demo, "tenant only", int(FIXED_NOW) + DAY)
    outsider = CalendarEventAttendee.builder().type("user").user_id(EXTERNAL_OPEN_ID).build()
    refused = add_attendees(client, as_demo, event.event_id, outsider)
    assert refused.code == 195100
    contact = CalendarEventAttendee.builder().type("resource").room_id(ROOM_IDS[0]).operate_id(EXTERNAL_OPEN_ID)
    assert add_attendees(client, as_demo, event.event_id, contact.build()).code == 195100
    colleague = CalendarEventAttendee.builder().type("user").user_id(LI_LEI_OPEN_ID).build()
    assert parsed(add_attendees(client, as_demo, event.event_id, colleague)).attendees


def test_a_member_invited_through_a_group_chat_is_an_attendee(sb: Sandbox, client: Any, as_demo: Any) -> None:
    # Feishu's chat attendees are group invitations: each member sees the event, replies to it, sees the
    # attendee list the event allows, keeps their own reminders (attendees may set them, patch.md).
    event = probe(client, as_demo, "team review", int(FIXED_NOW) + DAY, attendee_ability="can_see_others")
    team = CalendarEventAttendee.builder().type("chat").chat_id(DEMO_CHAT_ID).build()
    parsed(add_attendees(client, as_demo, event.event_id, team))
    as_li_lei = as_user(sb.issue_user_token(LI_LEI_OPEN_ID))
    li_lei_calendar = sb.world.primary_calendar(LI_LEI_OPEN_ID)
    assert li_lei_calendar is not None
    calendar = li_lei_calendar.calendar_id
    events = client.calendar.v4.calendar_event

    reply = ReplyCalendarEventRequestBody.builder().rsvp_status("accept").build()
    answer = ReplyCalendarEventRequest.builder().calendar_id(calendar).event_id(event.event_id).request_body(reply)
    parsed(events.reply(answer.build(), as_li_lei))

    listing = ListCalendarEventAttendeeRequest.builder().calendar_id(calendar).event_id(event.event_id).build()
    attendees = parsed(client.calendar.v4.calendar_event_attendee.list(listing, as_li_lei)).items
    chat = next(a for a in attendees if a.type == "chat")
    members = (
        ListCalendarEventAttendeeChatMemberRequest.builder()
        .calendar_id(calendar)
        .event_id(event.event_id)
        .attendee_id(chat.attendee_id)
        .build()
    )
    listed = parsed(client.calendar.v4.calendar_event_attendee_chat_member.list(members, as_li_lei)).items
    replies = {m.open_id: m.rsvp_status for m in listed}
    assert replies[LI_LEI_OPEN_ID] == "accept" and replies[HAN_MEIMEI_OPEN_ID] == "needs_action"

    mine = CalendarEvent.builder().reminders([Reminder.builder().minutes(30).build()]).build()
    patch = PatchCalendarEventRequest.builder().calendar_id(calendar).event_id(event.event_id).request_body(mine)
    assert parsed(events.patch(patch.build(), as_li_lei)).event.reminders[0].minutes == 30
    get = GetCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(event.event_id).build()
    assert not parsed(events.get(get, as_demo)).event.reminders  # reminders are the caller's own


def patch(client: Any, option: Any, event_id: str, body: Any) -> Any:
    request = (
        PatchCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(event_id).request_body(body)
    )
    return parsed(client.calendar.v4.calendar_event.patch(request.build(), option)).event


def moved(start: int, end: int) -> Any:
    return CalendarEvent.builder().start_time(when(start)).end_time(when(end)).build()


def test_room_free_busy_names_the_original_time_of_modified_occurrences_only(
    sb: Sandbox, client: Any, as_demo: Any
) -> None:
    # uIDOyUjLygjM14iM4ITN.md: original_time is 0 for single and recurring events, the original
    # start for an exception of a recurring event.
    first = int(FIXED_NOW) + 60 * DAY
    series = probe(client, as_demo, "room series", first, recurrence="FREQ=WEEKLY;COUNT=3")
    room = CalendarEventAttendee.builder().type("resource").room_id(ROOM_IDS[2]).build()
    parsed(add_attendees(client, as_demo, series.event_id, room))
    second = first + 7 * DAY
    patch(client, as_demo, f"{series.event_id[:-2]}_{second}", moved(second + HOUR, second + 2 * HOUR))
    query = {
        "room_ids": ROOM_IDS[2],
        "time_min": dt.datetime.fromtimestamp(first - DAY, SHANGHAI).isoformat(),
        "time_max": dt.datetime.fromtimestamp(first + 20 * DAY, SHANGHAI).isoformat(),
    }
    request = (
        lark.BaseRequest.builder()
        .http_method(lark.HttpMethod.GET)
        .uri("/open-apis/meeting_room/freebusy/batch_get")
        .token_types({lark.AccessTokenType.USER})
        .queries(list(query.items()))
        .build()
    )
    response = client.request(request, as_demo)
    assert response.code == 0, response.msg
    slots = lark.JSON.unmarshal(response.raw.content, dict)["data"]["free_busy"][ROOM_IDS[2]]
    assert [s["original_time"] for s in slots] == [0, second, 0]


def test_moving_a_series_with_a_modified_occurrence_shows_each_day_once(client: Any, as_demo: Any) -> None:
    first = int(FIXED_NOW) + 70 * DAY
    series = probe(client, as_demo, "weekly", first, recurrence="FREQ=WEEKLY;COUNT=3")
    uid = series.event_id[:-2]
    second = first + 7 * DAY
    patch(client, as_demo, f"{uid}_{second}", moved(second + 4 * HOUR, second + 5 * HOUR))
    patch(client, as_demo, series.event_id, moved(first + HOUR, first + 2 * HOUR))  # the series, an hour later
    instances = (
        InstancesCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(series.event_id)
        .start_time(str(first - DAY))
        .end_time(str(first + 20 * DAY))
        .build()
    )
    items = parsed(client.calendar.v4.calendar_event.instances(instances, as_demo)).items
    starts = [int(i.start_time.timestamp) for i in items]
    assert starts == [first + HOUR, second + HOUR, second + 7 * DAY + HOUR]  # one meeting a day
    window = listed(client, as_demo, start_time=str(second - DAY), end_time=str(second + DAY))
    assert [e.event_id for e in window.items if e.summary == "weekly"] == [series.event_id]
    stray = GetCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(f"{uid}_{second}")
    assert client.calendar.v4.calendar_event.get(stray.build(), as_demo).code == 193003


def test_a_room_books_asynchronously(sb: Sandbox, client: Any, as_demo: Any) -> None:
    # feishu-api.md (attendee create, op 14): a room booking is asynchronous; for a room,
    # rsvp_status needs_action means "booking in progress" and accept "booked", learnt by reading it
    # again. How long Feishu takes is not documented; the sandbox answers one second of its clock later.
    event = probe(client, as_demo, "room booking", int(FIXED_NOW) + 20 * DAY + 3 * HOUR)
    room = CalendarEventAttendee.builder().type("resource").room_id(ROOM_IDS[0]).build()
    added = parsed(add_attendees(client, as_demo, event.event_id, room)).attendees
    assert [(a.room_id, a.rsvp_status) for a in added if a.type == "resource"] == [(ROOM_IDS[0], "needs_action")]

    listing = ListCalendarEventAttendeeRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(event.event_id)

    def room_status() -> str:
        items = parsed(client.calendar.v4.calendar_event_attendee.list(listing.build(), as_demo)).items
        [status] = [a.rsvp_status for a in items if a.type == "resource"]
        return str(status)

    assert room_status() == "needs_action"  # still being decided
    sb.advance(room_booking.ANSWER_DELAY)
    assert room_status() == "accept"  # the room was free: booked, a moment later
