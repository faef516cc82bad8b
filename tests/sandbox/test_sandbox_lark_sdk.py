"""The official lark-oapi SDK as the client: it parses every reply and the values round-trip.

The SDK talks to the sandbox over a real loopback socket (``running``), with the demo user's token
set per request (``enable_set_token``), or with a tenant token it fetches itself.
"""

from __future__ import annotations

from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.calendar.v4 import (
    CalendarEvent,
    CreateCalendarEventRequest,
    DeleteCalendarEventRequest,
    EventLocation,
    EventSearchFilter,
    GetCalendarEventRequest,
    InstancesCalendarEventRequest,
    InstanceViewCalendarEventRequest,
    ListCalendarEventRequest,
    PatchCalendarEventRequest,
    PrimaryCalendarRequest,
    Reminder,
    ReplyCalendarEventRequest,
    ReplyCalendarEventRequestBody,
    SearchCalendarEventRequest,
    SearchCalendarEventRequestBody,
    Vchat,
)

from sandbox import (
    DEMO_APP_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    TEAM_CALENDAR_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
    access,
    running,
)
from server.clock import VirtualClock
from tests.sandbox.helpers_sandbox import DAY, FIXED_NOW, HOUR, WEEK_START
from tests.sandbox.lark_sdk import TokenCache, new_event, sdk_client, when

DESIGN_REVIEW = "sandbox0design0review00000000003_0"


def succeeded(response: Any) -> Any:
    assert response.success(), (response.code, response.msg)
    assert response.get_log_id()
    return getattr(response, "data", None)  # replies without data (delete, reply) have no attribute


def create(client: Any, option: Any, event: Any, key: str | None = None) -> Any:
    request = CreateCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(event)
    if key is not None:
        request = request.idempotency_key(key)
    return succeeded(client.calendar.v4.calendar_event.create(request.build(), option)).event


def test_primary_calendar(client: Any, as_demo: Any) -> None:
    data = succeeded(client.calendar.v4.calendar.primary(PrimaryCalendarRequest.builder().build(), as_demo))
    assert data.calendars[0].calendar.calendar_id == DEMO_PRIMARY_CALENDAR_ID
    assert data.calendars[0].calendar.role == "owner"


def test_create_get_patch_delete(client: Any, as_demo: Any) -> None:
    events = client.calendar.v4.calendar_event
    location = EventLocation.builder().name("Kunlun 昆仑").address("3F").build()
    reminder = Reminder.builder().minutes(15).build()
    vchat = Vchat.builder().vc_type("third_party").meeting_url("https://meet.example/abc").build()
    event = new_event(
        "SDK planning",
        WEEK_START + 8 * HOUR,
        WEEK_START + 9 * HOUR,
        description="made by lark-oapi",
        location=location,
        reminders=[reminder],
        vchat=vchat,
        visibility="public",
        recurrence="FREQ=WEEKLY;COUNT=3",
    )
    created = create(client, as_demo, event, key="sdk-key-0123456789abcdef0123456789")
    assert created.summary == "SDK planning" and created.start_time.timestamp == str(WEEK_START + 8 * HOUR)
    assert created.location.name == "Kunlun 昆仑" and created.reminders[0].minutes == 15
    assert created.vchat.meeting_url == "https://meet.example/abc" and created.recurrence == "FREQ=WEEKLY;COUNT=3"
    again = create(client, as_demo, event, key="sdk-key-0123456789abcdef0123456789")
    assert again.event_id == created.event_id

    get = GetCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(created.event_id).build()
    fetched = succeeded(events.get(get, as_demo)).event
    assert lark.JSON.marshal(fetched) == lark.JSON.marshal(created)

    patch_body = CalendarEvent.builder().summary("SDK planning (moved)").start_time(when(WEEK_START + 10 * HOUR))
    patch_body = patch_body.end_time(when(WEEK_START + 11 * HOUR)).build()
    patch = (
        PatchCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(created.event_id)
        .request_body(patch_body)
        .build()
    )
    patched = succeeded(events.patch(patch, as_demo)).event
    assert patched.summary == "SDK planning (moved)" and patched.end_time.timestamp == str(WEEK_START + 11 * HOUR)

    delete = (
        DeleteCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(created.event_id)
        .need_notification("false")
        .build()
    )
    succeeded(events.delete(delete, as_demo))
    gone = events.get(get, as_demo)
    assert not gone.success() and gone.code == 193003 and gone.get_log_id()


def test_a_lone_start_time_in_a_patch_changes_nothing(client: Any, as_demo: Any) -> None:
    # patch.md: start_time "takes effect only when end_time has a value too"; it used to be 190002.
    created = create(client, as_demo, new_event("Lone start", WEEK_START + 8 * HOUR, WEEK_START + 9 * HOUR))
    body = CalendarEvent.builder().summary("Lone start, renamed").start_time(when(WEEK_START + 10 * HOUR)).build()
    request = PatchCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(created.event_id)
    patched = succeeded(client.calendar.v4.calendar_event.patch(request.request_body(body).build(), as_demo)).event
    assert patched.summary == "Lone start, renamed"
    assert (patched.start_time.timestamp, patched.end_time.timestamp) == (
        str(WEEK_START + 8 * HOUR),
        str(WEEK_START + 9 * HOUR),
    )


def test_list_pages_and_sync_token(client: Any, as_demo: Any) -> None:
    for hour in range(55):
        start = WEEK_START + 20 * DAY + hour * HOUR
        create(client, as_demo, new_event(f"Slot {hour}", start, start + 1800))
    events = client.calendar.v4.calendar_event
    seen: list[str] = []
    page_token = None
    for _ in range(10):  # bounded: a listing that never ends fails instead of hanging
        # Feishu returns a page_token only to a listing with anchor_time (0: every event).
        request = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).page_size(50)
        request = request.anchor_time("0")
        if page_token:
            request = request.page_token(page_token)
        data = succeeded(events.list(request.build(), as_demo))
        seen += [item.event_id for item in data.items]
        if not data.has_more:
            break
        page_token = data.page_token
    assert len(seen) == len(set(seen)) > 55 and data.sync_token

    added = create(client, as_demo, new_event("After sync", WEEK_START, WEEK_START + HOUR))
    sync = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).sync_token(data.sync_token).build()
    changes = succeeded(events.list(sync, as_demo))
    assert [item.event_id for item in changes.items] == [added.event_id]

    bad = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).page_size(20).build()
    refused = events.list(bad, as_demo)
    # The generated response types leave ``error`` as the parsed JSON object.
    assert refused.code == 99992402 and refused.error["field_violations"][0]["field"] == "page_size"


def test_instances_and_instance_view_of_the_weekly_sync(client: Any, as_demo: Any) -> None:
    events = client.calendar.v4.calendar_event
    instances = (
        InstancesCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(f"{WEEKLY_SYNC_UID}_0")
        .start_time(str(WEEK_START))
        .end_time(str(WEEK_START + 21 * DAY))
        .page_size(10)
        .build()
    )
    items = succeeded(events.instances(instances, as_demo)).items
    assert [i.status for i in items] == ["confirmed", "confirmed", "cancelled"]
    assert items[0].is_exception is True and items[1].is_exception is False

    view = (
        InstanceViewCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .start_time(str(WEEK_START))
        .end_time(str(WEEK_START + 7 * DAY))
        .build()
    )
    agenda = succeeded(events.instance_view(view, as_demo)).items
    moved = next(i for i in agenda if i.event_id.startswith(WEEKLY_SYNC_UID))
    assert moved.recurring_event_id == f"{WEEKLY_SYNC_UID}_0" and moved.attendees[0].room_id
    too_long = (
        InstanceViewCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .start_time(str(WEEK_START))
        .end_time(str(WEEK_START + 45 * DAY))
        .build()
    )
    assert events.instance_view(too_long, as_demo).code == 193103


def test_search_and_reply(client: Any, as_demo: Any) -> None:
    events = client.calendar.v4.calendar_event
    # Without a time filter Feishu searches only the recent month: the review is later this week.
    this_week = EventSearchFilter.builder().start_time(when(WEEK_START)).end_time(when(WEEK_START + 7 * DAY)).build()
    search = (
        SearchCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .page_size(20)
        .request_body(SearchCalendarEventRequestBody.builder().query("design").filter(this_week).build())
        .build()
    )
    found = succeeded(events.search(search, as_demo)).items
    assert [e.event_id for e in found] == [DESIGN_REVIEW]
    reply = (
        ReplyCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(DESIGN_REVIEW)
        .request_body(ReplyCalendarEventRequestBody.builder().rsvp_status("tentative").build())
        .build()
    )
    succeeded(events.reply(reply, as_demo))
    get = (
        GetCalendarEventRequest.builder()
        .calendar_id(DEMO_PRIMARY_CALENDAR_ID)
        .event_id(DESIGN_REVIEW)
        .need_attendee(True)
        .build()
    )
    attendees = succeeded(events.get(get, as_demo)).event.attendees
    assert {a.display_name: a.rsvp_status for a in attendees}["演示用户"] == "tentative"


def test_expired_user_token_is_99991677(sb: Sandbox, client: Any, as_demo: Any) -> None:
    sb.expire_access_tokens()
    response = client.calendar.v4.calendar.primary(PrimaryCalendarRequest.builder().build(), as_demo)
    assert response.code == 99991677


def test_tenant_token_fetched_by_the_sdk(sb: Sandbox, base_url: str) -> None:
    app_client = sdk_client(base_url, user_tokens=False)
    request = ListCalendarEventRequest.builder().calendar_id(TEAM_CALENDAR_ID).page_size(50).build()
    items = succeeded(app_client.calendar.v4.calendar_event.list(request)).items
    assert [e.summary for e in items] == ["Team offsite planning"]
    assert sb.stats.token_grants["tenant_access_token"] == 1


def test_a_tenant_token_outlives_the_sandbox_that_issued_it(sb: Sandbox, base_url: str) -> None:
    """The SDK keeps a tenant token per app id for the whole process, for its 2 hours; a fresh sandbox
    (a test module's own) used to refuse the first one's token with 99991663."""
    cache = TokenCache()
    request = ListCalendarEventRequest.builder().calendar_id(TEAM_CALENDAR_ID).page_size(50).build()
    succeeded(sdk_client(base_url, user_tokens=False, cache=cache).calendar.v4.calendar_event.list(request))
    fresh = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))
    with running(fresh) as fresh_url:
        app_client = sdk_client(fresh_url, user_tokens=False, cache=cache)
        assert succeeded(app_client.calendar.v4.calendar_event.list(request)).items
        assert fresh.stats.token_grants["tenant_access_token"] == 0  # the cached token was honoured
        fresh.expire_access_tokens()
        assert app_client.calendar.v4.calendar_event.list(request).code == 99991663


@pytest.mark.anyio
async def test_only_a_token_signed_with_the_apps_secret_outlives_its_sandbox(sb: Sandbox) -> None:
    signed = access.mint_tenant_token(sb.world, sb.clock.now(), sb.world.apps[DEMO_APP_ID]).token
    forged = signed[:-4] + ("1111" if signed.endswith("0000") else "0000")
    path = f"/open-apis/calendar/v4/calendars/{TEAM_CALENDAR_ID}/events"
    fresh = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))
    for token, code in ((forged, 99991663), (signed, 0)):
        async with fresh.client(headers={"Authorization": f"Bearer {token}"}) as client:
            assert (await client.get(path)).json()["code"] == code
