"""Attendees: add (with room booking) and batch delete, with their codes."""

from __future__ import annotations

import httpx2
import pytest

from sandbox import (
    ADMIN_OPEN_ID,
    DEMO_USER_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_CALENDAR_IDS,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
    room_booking,
)
from sandbox.eventstore import calendars_of
from tests.sandbox.helpers_attendees import (
    EVEREST,
    KUNLUN,
    LI_LEI_CALENDAR,
    TAISHAN,
    add,
    answered,
    attendees_path,
    by_id,
    monday_at,
    person,
    room,
)
from tests.sandbox.helpers_sandbox import (
    DAY,
    HOUR,
    WEEK_START,
    bearer,
    busy,
    create,
    event_path,
    events_path,
    fails,
    ok,
    timed,
)

pytestmark = pytest.mark.anyio


# -- add ----------------------------------------------------------------------------------------


async def test_add_people_and_a_room_books_it(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    listed = by_id(
        await add(
            api, event_id, person(LI_LEI_OPEN_ID), room(KUNLUN), {"type": "third_party", "third_party_email": "a@x.io"}
        )
    )
    assert listed[DEMO_USER_OPEN_ID]["is_organizer"] is True and listed[DEMO_USER_OPEN_ID]["rsvp_status"] == "accept"
    assert listed[LI_LEI_OPEN_ID]["rsvp_status"] == "needs_action" and listed[LI_LEI_OPEN_ID]["display_name"] == "李雷"
    assert listed[KUNLUN]["rsvp_status"] == "needs_action" and listed[KUNLUN]["attendee_id"].startswith("resource_")
    assert listed["a@x.io"]["is_external"] is True
    assert (await answered(sb, api, event_id))[KUNLUN]["rsvp_status"] == "accept"  # booked, a moment later
    # The event now shows on Li Lei's calendar and on the room's.
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    ok(await api.get(event_path(event_id, LI_LEI_CALENDAR), headers=as_li_lei))
    assert sb.world.events[event_id].attendee_for_user(LI_LEI_OPEN_ID) is not None
    assert ROOM_CALENDAR_IDS[1] in calendars_of(sb.world, sb.world.events[event_id])


async def test_a_room_answers_a_moment_after_the_request(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    sync_token = ok(await api.get(events_path(), params={"anchor_time": str(WEEK_START)}))["sync_token"]
    assert by_id(await add(api, event_id, room(KUNLUN)))[KUNLUN]["rsvp_status"] == "needs_action"
    changes = ok(await api.get(events_path(), params={"sync_token": sync_token}))
    sync_token = changes["sync_token"]
    sb.advance(room_booking.ANSWER_DELAY / 2)
    listed = by_id(ok(await api.get(attendees_path(event_id)))["items"])
    assert listed[KUNLUN]["rsvp_status"] == "needs_action"  # booking in progress
    [slot] = await busy(api, KUNLUN, WEEK_START + 16 * HOUR, WEEK_START + 17 * HOUR)
    assert slot["uid"] == event_id.rsplit("_", 1)[0]  # a booking in progress holds the room
    assert (await answered(sb, api, event_id))[KUNLUN]["rsvp_status"] == "accept"
    changed = ok(await api.get(events_path(), params={"sync_token": sync_token}))["items"]
    assert [e["event_id"] for e in changed] == [event_id]  # the answer is a change sync tokens see


async def test_a_room_already_held_declines_the_booking(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    # Kunlun holds the 1:1 on Monday 14:00-14:30.
    event_id = await monday_at(api, 14)
    listed = by_id(await add(api, event_id, room(KUNLUN), room(EVEREST)))
    assert listed[KUNLUN]["rsvp_status"] == listed[EVEREST]["rsvp_status"] == "needs_action"
    listed = await answered(sb, api, event_id)
    assert listed[KUNLUN]["rsvp_status"] == "decline" and listed[EVEREST]["rsvp_status"] == "accept"
    # A booking that is going to fail never held the room: Kunlun shows only the 1:1.
    [slot] = await busy(api, KUNLUN, WEEK_START + 14 * HOUR, WEEK_START + 15 * HOUR)
    assert slot["uid"] == "sandbox0one0on0one0lilei0000000002"


async def test_of_two_requests_for_one_slot_the_first_gets_the_room(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    first, second = await monday_at(api, 16), await monday_at(api, 16)
    await add(api, first, room(TAISHAN))
    await add(api, second, room(TAISHAN))  # before the first one's answer
    assert (await answered(sb, api, first))[TAISHAN]["rsvp_status"] == "accept"
    assert (await answered(sb, api, second))[TAISHAN]["rsvp_status"] == "decline"


async def test_a_series_is_checked_for_every_occurrence(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    # Thursdays 10:00 are free in Everest, but a Tuesday series at 10:30 meets the weekly sync.
    tuesday = WEEK_START + DAY + 10 * HOUR + 1800
    event = await create(api, **timed(tuesday + 7 * DAY, tuesday + 7 * DAY + HOUR, recurrence="FREQ=WEEKLY;COUNT=4"))
    await add(api, event["event_id"], room(EVEREST))
    assert (await answered(sb, api, event["event_id"]))[EVEREST]["rsvp_status"] == "decline"
    thursday = WEEK_START + 3 * DAY + 10 * HOUR
    event = await create(api, **timed(thursday, thursday + HOUR, recurrence="FREQ=WEEKLY;COUNT=4"))
    await add(api, event["event_id"], room(EVEREST))
    assert (await answered(sb, api, event["event_id"]))[EVEREST]["rsvp_status"] == "accept"


async def test_a_series_booking_a_room_spans_at_most_two_years(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    start = WEEK_START + 3 * DAY + 8 * HOUR
    endless = await create(api, **timed(start, start + HOUR, recurrence="FREQ=WEEKLY"))
    body = {"attendees": [person(LI_LEI_OPEN_ID), room(KUNLUN)]}
    fails(await api.post(attendees_path(endless["event_id"]), json=body), 190002, 400)
    assert sb.world.events[endless["event_id"]].attendees == []
    # People alone may join an endless series.
    ok(await api.post(attendees_path(endless["event_id"]), json={"attendees": [person(LI_LEI_OPEN_ID)]}))
    two_years = await create(api, **timed(start, start + HOUR, recurrence="FREQ=YEARLY;COUNT=2"))
    await add(api, two_years["event_id"], room(KUNLUN))
    assert (await answered(sb, api, two_years["event_id"]))[KUNLUN]["rsvp_status"] == "accept"


async def test_adding_twice_keeps_one_entry(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    listed = await add(api, event_id, person(LI_LEI_OPEN_ID), person(LI_LEI_OPEN_ID))
    assert [a["user_id"] for a in listed] == [DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID]
    assert len(sb.world.events[event_id].attendees) == 2


async def test_user_id_type_names_people_both_ways(api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    response = await api.post(
        attendees_path(event_id), params={"user_id_type": "user_id"}, json={"attendees": [person("hanmm003")]}
    )
    assert by_id(ok(response)["attendees"])["hanmm003"]["display_name"] == "韩梅梅"


async def test_add_validation_codes(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    path = attendees_path(event_id)
    fails(await api.post(path, json={"attendees": [{"type": "robot", "user_id": "x"}]}), 194004, 400)
    fails(await api.post(path, json={"attendees": [{"type": "user"}]}), 190002, 400)
    fails(await api.post(path, json={"attendees": [person("ou_nobody")]}), 195100, 404)
    fails(await api.post(path, json={"attendees": [{**room(KUNLUN), "is_optional": True}]}), 190002, 400)
    fails(await api.post(path, json={"attendees": [room("omm_nowhere")]}), 190002, 400)
    fails(await api.post(path, json={"attendees": [{"type": "third_party", "third_party_email": "nope"}]}), 190002)
    fails(await api.post(path, json={"attendees": [{"type": "chat", "chat_id": "oc_missing"}]}), 190002, 400)
    fails(await api.post(path, json={"attendees": []}), 190002, 400)
    fails(await api.post(path, json={"attendees": [person(LI_LEI_OPEN_ID)] * 1001}), 190002, 400)
    fails(await api.post(path, json={"attendees": [room(KUNLUN)] * 101}), 190002, 400)
    fails(await api.post(path, json={"attendees": [person(LI_LEI_OPEN_ID)], "need_notification": "yes"}), 190002)
    assert sb.world.events[event_id].attendees == []


async def test_at_most_3000_attendees_per_event(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    emails = [{"type": "third_party", "third_party_email": f"guest{i}@x.io"} for i in range(3000)]
    await add(api, event_id, *emails[:1000])
    await add(api, event_id, *emails[1000:1999])  # with the organizer: 2000
    await add(api, event_id, *emails[1999:2999])
    fails(await api.post(attendees_path(event_id), json={"attendees": emails[2999:]}), 190002, 400)
    assert len(sb.world.events[event_id].attendees) == 3000


async def test_only_the_organizer_or_can_invite_others_may_add(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    weekly = f"{WEEKLY_SYNC_UID}_0"  # Li Lei attends; attendee_ability can_see_others
    refused = await api.post(
        attendees_path(weekly, LI_LEI_CALENDAR), headers=as_li_lei, json={"attendees": [person(ADMIN_OPEN_ID)]}
    )
    fails(refused, 194002, 403)
    event_id = await monday_at(api, 16, attendee_ability="can_invite_others")
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    response = await api.post(
        attendees_path(event_id, LI_LEI_CALENDAR), headers=as_li_lei, json={"attendees": [person(HAN_MEIMEI_OPEN_ID)]}
    )
    assert HAN_MEIMEI_OPEN_ID in by_id(ok(response)["attendees"])


async def test_operate_id_joins_the_event_unless_told_not_to(api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    listed = by_id(await add(api, event_id, {**room(TAISHAN), "operate_id": WANG_FANG_OPEN_ID}))
    assert listed[TAISHAN]["operate_id"] == WANG_FANG_OPEN_ID and WANG_FANG_OPEN_ID in listed
    other = await monday_at(api, 18)
    listed = by_id(
        await add(api, other, {**room(TAISHAN), "operate_id": WANG_FANG_OPEN_ID}, add_operator_to_attendee=False)
    )
    assert WANG_FANG_OPEN_ID not in listed


async def test_admin_mode_books_rooms_only_for_one_occurrence(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    tuesday_next = WEEK_START + 8 * DAY + 10 * HOUR
    body = {"attendees": [room(TAISHAN), person(ADMIN_OPEN_ID)], "is_enable_admin": True}
    weekly = f"{WEEKLY_SYNC_UID}_0"
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))  # an attendee, not an administrator
    fails(await api.post(attendees_path(weekly, LI_LEI_CALENDAR), headers=as_li_lei, json=body), 194002, 403)
    fails(
        await api.post(
            attendees_path(weekly),
            json={**body, "is_enable_admin": False, "instance_start_time_admin": str(tuesday_next)},
        ),
        190002,
    )
    as_admin = bearer(sb.issue_user_token(ADMIN_OPEN_ID))
    response = await api.post(
        attendees_path(weekly, ROOM_CALENDAR_IDS[0]),
        headers=as_admin,
        json={**body, "instance_start_time_admin": str(tuesday_next)},
    )
    listed = by_id(ok(response)["attendees"])
    assert listed[TAISHAN]["rsvp_status"] == "needs_action" and ADMIN_OPEN_ID not in listed
    exception = sb.world.events[f"{WEEKLY_SYNC_UID}_{tuesday_next}"]
    listed = await answered(sb, api, exception.event_id)
    assert listed[TAISHAN]["rsvp_status"] == "accept"
    assert exception.is_exception and any(a.room_id == TAISHAN for a in exception.attendees)
    assert not any(a.room_id == TAISHAN for a in sb.world.events[weekly].attendees)


async def test_adding_to_a_series_reaches_its_exceptions(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    weekly = f"{WEEKLY_SYNC_UID}_0"
    await add(api, weekly, person(ADMIN_OPEN_ID))
    moved = sb.world.events[f"{WEEKLY_SYNC_UID}_{WEEK_START + DAY + 10 * HOUR}"]
    assert moved.attendee_for_user(ADMIN_OPEN_ID) is not None


# -- batch delete -------------------------------------------------------------------------------


async def test_batch_delete_by_attendee_id_and_by_delete_ids(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    listed = by_id(await add(api, event_id, person(LI_LEI_OPEN_ID), person(HAN_MEIMEI_OPEN_ID), room(KUNLUN)))
    body = {"attendee_ids": [listed[LI_LEI_OPEN_ID]["attendee_id"]], "delete_ids": [room(KUNLUN)]}
    assert ok(await api.post(attendees_path(event_id) + "/batch_delete", json=body)) == {}
    remaining = ok(await api.get(attendees_path(event_id)))["items"]
    assert set(by_id(remaining)) == {DEMO_USER_OPEN_ID, HAN_MEIMEI_OPEN_ID}
    stored = {a.attendee_id: a.rsvp_status for a in sb.world.events[event_id].attendees}
    assert stored[listed[LI_LEI_OPEN_ID]["attendee_id"]] == "removed"
    # Removed once, gone: a second removal names no attendee.
    fails(await api.post(attendees_path(event_id) + "/batch_delete", json=body), 194000, 404)
    # Invited again, they are back.
    assert LI_LEI_OPEN_ID in by_id(await add(api, event_id, person(LI_LEI_OPEN_ID)))


async def test_employee_ids_name_people_to_remove_and_in_listings(api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    await add(api, event_id, person(LI_LEI_OPEN_ID), person(WANG_FANG_OPEN_ID))
    by_employee_id = {"user_id_type": "user_id"}
    listed = ok(await api.get(attendees_path(event_id), params=by_employee_id))["items"]
    assert {a["user_id"] for a in listed} == {"demo001", "lilei002", "wangf004"}
    body = {"delete_ids": [{"type": "user", "user_id": "lilei002"}]}
    ok(await api.post(attendees_path(event_id) + "/batch_delete", params=by_employee_id, json=body))
    remaining = ok(await api.get(attendees_path(event_id), params=by_employee_id))["items"]
    assert {a["user_id"] for a in remaining} == {"demo001", "wangf004"}


async def test_a_deleted_event_has_no_attendees_to_manage(api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    ok(await api.delete(event_path(event_id)))
    fails(await api.get(attendees_path(event_id)), 193003, 403)
    fails(await api.post(attendees_path(event_id), json={"attendees": [person(HAN_MEIMEI_OPEN_ID)]}), 193003, 403)


async def test_batch_delete_codes(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await monday_at(api, 16)
    listed = by_id(await add(api, event_id, person(LI_LEI_OPEN_ID)))
    path = attendees_path(event_id) + "/batch_delete"
    fails(await api.post(path, json={}), 190002, 400)
    fails(await api.post(path, json={"attendee_ids": ["user_x"] * 501}), 190002, 400)
    fails(await api.post(path, json={"delete_ids": [{"type": "robot"}]}), 194004, 400)
    fails(await api.post(path, json={"attendee_ids": [listed[DEMO_USER_OPEN_ID]["attendee_id"]]}), 190002, 400)
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    own = {"attendee_ids": [listed[LI_LEI_OPEN_ID]["attendee_id"]]}
    li_lei_path = attendees_path(event_id, LI_LEI_CALENDAR) + "/batch_delete"
    fails(await api.post(li_lei_path, headers=as_li_lei, json=own), 194003, 403)
    assert len(ok(await api.get(attendees_path(event_id)))["items"]) == 2
