"""Event writes and reads: round trips, permissions, idempotency and Feishu's codes."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import (
    DEMO_PRIMARY_CALENDAR_ID,
    LI_LEI_OPEN_ID,
    ROOM_CALENDAR_IDS,
    TEAM_CALENDAR_ID,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
)
from sandbox.seed import primary_calendar_id
from tests.sandbox.helpers_sandbox import (
    HOUR,
    WEEK_START,
    bearer,
    create,
    event_path,
    events_path,
    fails,
    ok,
    timed,
)

pytestmark = pytest.mark.anyio

ONE_ON_ONE = "sandbox0one0on0one0lilei0000000002_0"  # organized by the demo user, Li Lei attends
DESIGN_REVIEW = "sandbox0design0review00000000003_0"  # organized by Han Meimei, demo invited
CUSTOMER_CALL = "sandbox0customer0call00000000005_0"  # Wang Fang's, attendee_ability none


async def test_create_then_get_round_trips_every_field(api: httpx2.AsyncClient) -> None:
    body = timed(
        WEEK_START + 8 * HOUR,
        WEEK_START + 9 * HOUR,
        summary="Planning",
        description="<b>agenda</b>",
        visibility="public",
        attendee_ability="can_see_others",
        free_busy_status="free",
        color=0x3366FF,
        reminders=[{"minutes": 15}],
        location={"name": "Kunlun", "address": "3F", "latitude": 31.2, "longitude": 121.5},
        recurrence="FREQ=DAILY;COUNT=3",
        vchat={"vc_type": "third_party", "meeting_url": "https://meet.example/x"},
        schemas=[{"ui_name": "ForwardIcon", "ui_status": "hide"}],
    )
    created = await create(api, **body)
    assert created["event_id"].endswith("_0") and created["status"] == "confirmed"
    fetched = ok(await api.get(event_path(created["event_id"])))["event"]
    assert fetched == created
    for name in ("summary", "description", "visibility", "color", "reminders", "location", "recurrence", "schemas"):
        assert fetched[name] == body[name]
    assert fetched["start_time"] == {"timestamp": str(WEEK_START + 8 * HOUR), "timezone": "Asia/Shanghai"}
    assert isinstance(fetched["create_time"], str) and fetched["vchat"]["meeting_url"] == "https://meet.example/x"


async def test_idempotency_key_returns_the_same_event(api: httpx2.AsyncClient) -> None:
    key = "0123456789abcdef0123456789abcdef"
    body = timed(WEEK_START, WEEK_START + HOUR, summary="Once")
    first = ok(await api.post(events_path(), params={"idempotency_key": key}, json=body))["event"]
    again = ok(await api.post(events_path(), params={"idempotency_key": key}, json=body))["event"]
    assert again["event_id"] == first["event_id"]
    fails(await api.post(events_path(), params={"idempotency_key": "short"}, json=body), 99992402, 400)


async def test_create_validation(api: httpx2.AsyncClient) -> None:
    missing = fails(await api.post(events_path(), json={"summary": "no times"}), 190002, 400)
    assert missing["error"]["field_violations"][0]["field"] == "start_time"
    backwards = timed(WEEK_START + HOUR, WEEK_START)
    fails(await api.post(events_path(), json=backwards), 190002)
    both = timed(WEEK_START, WEEK_START + HOUR, recurrence="FREQ=DAILY;COUNT=2;UNTIL=20261231")
    fails(await api.post(events_path(), json=both), 190002)
    numeric = {"start_time": {"timestamp": 1795363200}, "end_time": {"timestamp": "1795366800"}}
    fails(await api.post(events_path(), json=numeric), 190002)
    bad_reminder = timed(WEEK_START, WEEK_START + HOUR, reminders=[{"minutes": 20161}])
    fails(await api.post(events_path(), json=bad_reminder), 190002)
    password = timed(WEEK_START, WEEK_START + HOUR, vchat={"vc_type": "vc", "meeting_settings": {"password": "12"}})
    fails(await api.post(events_path(), json=password), 195112)
    check_in = {"enable_check_in": True, "check_in_end_time": "soon"}
    fails(await api.post(events_path(), json=timed(WEEK_START, WEEK_START + HOUR, event_check_in=check_in)), 190002)
    fails(await api.post(events_path(), json=timed(WEEK_START, WEEK_START + HOUR, color=True)), 190002)


async def test_all_day_events_use_dates(api: httpx2.AsyncClient) -> None:
    day: dict[str, Any] = {
        "start_time": {"date": "2026-11-25"},
        "end_time": {"date": "2026-11-25"},
        "summary": "Offsite",
    }
    event = await create(api, **day)
    assert event["start_time"] == {"date": "2026-11-25", "timezone": "UTC"}


async def test_calendar_codes(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    body = timed(WEEK_START, WEEK_START + HOUR)
    fails(await api.post(events_path("not a calendar"), json=body), 191001, 400)
    fails(await api.post(events_path("feishu.cn_nope@group.calendar.feishu.cn"), json=body), 191000, 404)
    fails(await api.post(events_path(primary_calendar_id(LI_LEI_OPEN_ID)), json=body), 191002, 403)
    sb.world.calendars[ROOM_CALENDAR_IDS[0]].acl[sb.demo_user.open_id] = "writer"
    fails(await api.post(events_path(ROOM_CALENDAR_IDS[0]), json=body), 191004, 403)
    sb.world.calendars[TEAM_CALENDAR_ID].is_deleted = True
    fails(await api.post(events_path(TEAM_CALENDAR_ID), json=body), 191003, 403)


async def test_shared_calendar_writers_create_and_readers_cannot(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event = await create(api, TEAM_CALENDAR_ID)
    assert event["organizer_calendar_id"] == TEAM_CALENDAR_ID
    wang = bearer(sb.issue_user_token(WANG_FANG_OPEN_ID))  # a reader of the team calendar
    fails(await api.post(events_path(TEAM_CALENDAR_ID), json=timed(1, 2), headers=wang), 191002)
    assert ok(await api.get(event_path(event["event_id"], TEAM_CALENDAR_ID), headers=wang))["event"]


async def test_event_id_codes(api: httpx2.AsyncClient) -> None:
    fails(await api.get(event_path("no-suffix")), 193000, 400)
    fails(await api.get(event_path("0000dead-beef_0")), 193001, 404)
    event = await create(api)
    ok(await api.delete(event_path(event["event_id"])))
    fails(await api.get(event_path(event["event_id"])), 193003, 403)
    fails(await api.delete(event_path(event["event_id"])), 193003, 403)


async def test_attendee_may_change_only_personal_fields(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    li_path = event_path(ONE_ON_ONE, primary_calendar_id(LI_LEI_OPEN_ID))
    fails(await api.patch(li_path, json={"summary": "mine now"}, headers=li_lei), 193002, 403)
    mine = ok(await api.patch(li_path, json={"color": 255, "free_busy_status": "free"}, headers=li_lei))["event"]
    assert mine["color"] == 255 and mine["free_busy_status"] == "free"
    organizer_view = ok(await api.get(event_path(ONE_ON_ONE)))["event"]
    assert organizer_view["color"] != 255 and organizer_view["free_busy_status"] == "busy"
    fails(await api.delete(li_path, headers=li_lei), 193002, 403)


async def test_can_modify_event_lets_attendees_edit_but_not_set_a_password(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    ok(await api.patch(event_path(ONE_ON_ONE), json={"attendee_ability": "can_modify_event"}))
    li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    li_path = event_path(ONE_ON_ONE, primary_calendar_id(LI_LEI_OPEN_ID))
    renamed = ok(await api.patch(li_path, json={"summary": "1:1 (agenda: hiring)"}, headers=li_lei))["event"]
    assert renamed["summary"] == "1:1 (agenda: hiring)"
    password = {"vchat": {"vc_type": "vc", "meeting_settings": {"password": "123456"}}}
    fails(await api.patch(li_path, json=password, headers=li_lei), 195113)


async def test_one_time_alone_and_rejected_bodies_change_nothing(api: httpx2.AsyncClient) -> None:
    event = await create(api)
    # patch.md: start_time "takes effect only when end_time has a value too" (no error).
    only_start = {"start_time": {"timestamp": str(WEEK_START)}}
    unmoved = ok(await api.patch(event_path(event["event_id"]), json=only_start))["event"]
    assert (unmoved["start_time"], unmoved["end_time"]) == (event["start_time"], event["end_time"])
    half_bad = {"summary": "changed?", "visibility": "secret"}
    fails(await api.patch(event_path(event["event_id"]), json=half_bad), 190002)
    assert ok(await api.get(event_path(event["event_id"])))["event"]["summary"] == "Created"


async def test_reply_sets_my_rsvp(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    ok(await api.post(event_path(DESIGN_REVIEW) + "/reply", json={"rsvp_status": "accept"}))
    event = ok(await api.get(event_path(DESIGN_REVIEW), params={"need_attendee": "true"}))["event"]
    mine = next(a for a in event["attendees"] if a.get("user_id") == sb.demo_user.open_id)
    assert mine["rsvp_status"] == "accept"
    fails(await api.post(event_path(DESIGN_REVIEW) + "/reply", json={"rsvp_status": "maybe"}), 190002)
    fails(await api.post(event_path(DESIGN_REVIEW) + "/reply", json={}), 190002)
    own = await create(api)
    fails(await api.post(event_path(own["event_id"]) + "/reply", json={"rsvp_status": "accept"}), 194000)


async def test_attendee_list_needs_can_see_others(api: httpx2.AsyncClient) -> None:
    fails(await api.get(event_path(CUSTOMER_CALL), params={"need_attendee": "true"}), 194001, 403)
    event = ok(await api.get(event_path(DESIGN_REVIEW), params={"need_attendee": "true", "max_attendee_num": 2}))
    assert len(event["event"]["attendees"]) == 2 and event["event"]["has_more_attendee"] is True
    fails(await api.get(event_path(DESIGN_REVIEW), params={"max_attendee_num": 101}), 99992402)


async def test_patch_one_occurrence_makes_an_exception(api: httpx2.AsyncClient) -> None:
    occurrence = f"{WEEKLY_SYNC_UID}_{WEEK_START + 7 * 86400 + 8 * HOUR + 2 * HOUR + 86400}"
    # Tuesday 10:00 of next week; the seed's moved occurrence is this week's.
    patched = ok(await api.patch(event_path(occurrence), json={"summary": "Sync: Q1 planning"}))["event"]
    assert patched["is_exception"] is True and patched["recurring_event_id"] == f"{WEEKLY_SYNC_UID}_0"
    master = ok(await api.get(event_path(f"{WEEKLY_SYNC_UID}_0")))["event"]
    assert master["summary"] == "Weekly product sync"
    fails(await api.get(event_path(f"{WEEKLY_SYNC_UID}_{WEEK_START + 1}")), 193001)


async def test_deleting_a_series_deletes_its_exceptions(api: httpx2.AsyncClient) -> None:
    moved = f"{WEEKLY_SYNC_UID}_{WEEK_START + 86400 + 10 * HOUR}"
    assert ok(await api.get(event_path(moved)))["event"]["is_exception"] is True
    ok(await api.delete(event_path(f"{WEEKLY_SYNC_UID}_0"), params={"need_notification": "false"}))
    fails(await api.get(event_path(moved)), 193003)
    fails(await api.delete(event_path(DESIGN_REVIEW), params={"need_notification": "maybe"}), 99992402)


async def test_tenant_token_reads_shared_calendars_only(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    from sandbox import DEMO_APP_ID, DEMO_APP_SECRET

    reply = await anonymous.post(
        "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}
    )
    app = bearer(reply.json()["tenant_access_token"])
    assert ok(await anonymous.get(events_path(TEAM_CALENDAR_ID), headers=app))["items"]
    fails(await anonymous.get(events_path(DEMO_PRIMARY_CALENDAR_ID), headers=app), 191002)
    fails(await anonymous.get("/open-apis/authen/v1/user_info", headers=app), 99991663)


async def test_user_id_type_user_id_needs_the_employee_id_scope(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    as_user_id = {"user_id_type": "user_id"}
    organizer = ok(await api.get(event_path(ONE_ON_ONE), params=as_user_id))["event"]["event_organizer"]
    assert organizer["user_id"] == sb.demo_user.user_id
    narrow = bearer(sb.issue_user_token(sb.demo_user.open_id, scopes=["calendar:calendar"]))
    refused = fails(await api.get(event_path(ONE_ON_ONE), params=as_user_id, headers=narrow), 99991679, 403)
    assert refused["error"]["permission_violations"][0]["subject"] == "contact:user.employee_id:readonly"
    union = ok(await api.get(event_path(ONE_ON_ONE), params={"user_id_type": "union_id"}, headers=narrow))
    assert union["event"]["event_organizer"]["user_id"] == sb.demo_user.union_id
    fails(await api.get(event_path(ONE_ON_ONE), params={"user_id_type": "email"}), 99992402)


async def test_a_series_booking_a_room_may_span_two_years(api: httpx2.AsyncClient) -> None:
    weekly = event_path(f"{WEEKLY_SYNC_UID}_0")  # books a room
    fails(await api.patch(weekly, json={"recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=200"}), 190002)
    ok(await api.patch(weekly, json={"recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=20"}))
    fails(await api.patch(weekly, json={"recurrence": "FREQ=WEEKLY;BYDAY=TU"}), 190002)  # endless
    roomless = await create(api, **timed(WEEK_START, WEEK_START + HOUR, recurrence="FREQ=WEEKLY"))
    assert roomless["recurrence"] == "FREQ=WEEKLY"


async def test_private_events_show_only_their_time_to_other_readers(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    secret = timed(WEEK_START, WEEK_START + HOUR, summary="Reorg talk", visibility="private", location={"name": "HR"})
    event = await create(api, TEAM_CALENDAR_ID, **secret)
    assert event["summary"] == "Reorg talk"
    wang = bearer(sb.issue_user_token(WANG_FANG_OPEN_ID))  # reads the team calendar, not invited
    seen = ok(await api.get(event_path(event["event_id"], TEAM_CALENDAR_ID), headers=wang))["event"]
    assert seen["summary"] == "" and "location" not in seen and seen["start_time"] == event["start_time"]


async def test_meeting_settings_of_a_vc_event_nobody_set_are_create_mds_defaults(api: httpx2.AsyncClient) -> None:
    # They came back as {}: a client reading join_meeting_permission found nothing.
    event = await create(api, **timed(WEEK_START, WEEK_START + HOUR, summary="VC", vchat={"vc_type": "vc"}))
    got = ok(await api.get(event_path(event["event_id"]), params={"need_meeting_settings": "true"}))["event"]
    assert got["vchat"]["meeting_settings"] == {
        "join_meeting_permission": "anyone_can_join",
        "auto_record": False,
        "open_lobby": True,
        "allow_attendees_start": True,
    }
    changed = {"vchat": {"vc_type": "vc", "meeting_settings": {"auto_record": True}}}
    ok(await api.patch(event_path(event["event_id"]), json=changed))
    got = ok(await api.get(event_path(event["event_id"]), params={"need_meeting_settings": "true"}))["event"]
    assert got["vchat"]["meeting_settings"]["auto_record"] is True
    assert got["vchat"]["meeting_settings"]["open_lobby"] is True


async def test_an_empty_recurrence_in_a_patch_changes_nothing(api: httpx2.AsyncClient) -> None:
    # patch.md: recurrence's default "empty: the field is not updated"; the sandbox used to clear the rule.
    weekly = timed(WEEK_START, WEEK_START + HOUR, summary="Weekly", recurrence="FREQ=WEEKLY;COUNT=3")
    event = await create(api, **weekly)
    kept = ok(await api.patch(event_path(event["event_id"]), json={"recurrence": "", "summary": "Weekly!"}))["event"]
    assert (kept["recurrence"], kept["summary"]) == ("FREQ=WEEKLY;COUNT=3", "Weekly!")
