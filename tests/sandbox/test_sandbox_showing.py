"""The index of which calendar shows which event (eventstore.showing) stays equal to a scan of the world.

Listings read the index instead of asking every event whether a calendar shows it; every write path
must keep it right. After each write below, every calendar's listing is compared with the scan the
index replaced: each live event of the world whose calendars_of names the calendar, by start.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import (
    DEMO_APP_ID,
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    TEAM_CALENDAR_ID,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    Sandbox,
    access,
    eventstore,
    recurrence,
)
from sandbox.seed import add_chat, add_room, add_user, primary_calendar_id
from sandbox.state import Attendee, Event, TimeInfo
from tests.sandbox.helpers_attendees import EVEREST, add, attendees_path, person, room
from tests.sandbox.helpers_sandbox import DAY, HOUR, WEEK_START, bearer, create, event_path, events_path, ok, timed

pytestmark = pytest.mark.anyio

LI_LEI_CALENDAR = primary_calendar_id(LI_LEI_OPEN_ID)
HAN_MEIMEI_CALENDAR = primary_calendar_id(HAN_MEIMEI_OPEN_ID)


def scanned(sb: Sandbox, calendar_id: str) -> list[Event]:
    """What events_on answered before the index: a scan of every event in the world."""
    world = sb.world
    found = [e for e in world.events.values() if not e.deleted and calendar_id in eventstore.calendars_of(world, e)]
    return sorted(found, key=lambda e: (recurrence.instant(e.start), e.event_id))


def assert_index_right(sb: Sandbox) -> None:
    world = sb.world
    for calendar in world.calendars.values():
        assert eventstore.events_on(world, calendar) == scanned(sb, calendar.calendar_id), calendar.calendar_id
    for event in world.events.values():
        assert eventstore.shown_on(world, event) == eventstore.calendars_of(world, event), event.event_id
    # No leftovers either (an id kept there would come back listed if a new record took it).
    index = eventstore.showing(world)
    for calendar_id, event_ids in index.by_calendar.items():
        assert event_ids == {i for i, e in world.events.items() if calendar_id in eventstore.calendars_of(world, e)}


async def listed_ids(sb: Sandbox, api: httpx2.AsyncClient, calendar_id: str) -> list[str]:
    """The calendar's listing through the API, as its owner (the app, for a room's calendar)."""
    owner = sb.world.calendars[calendar_id].owner_open_id
    if owner is not None:
        token = sb.issue_user_token(owner)
    else:
        token = access.mint_access_token(sb.world, sb.clock.now(), DEMO_APP_ID, None, access.ALL_SCOPES, 60).token
    reply = await api.get(events_path(calendar_id), params={"page_size": 1000}, headers=bearer(token))
    return [e["event_id"] for e in ok(reply)["items"]]


async def assert_listings_right(sb: Sandbox, api: httpx2.AsyncClient, *calendar_ids: str) -> None:
    assert_index_right(sb)
    for calendar_id in calendar_ids:
        assert await listed_ids(sb, api, calendar_id) == [e.event_id for e in scanned(sb, calendar_id)]


async def test_the_index_follows_creates_moves_attendees_replies_and_deletions(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    calendars = (DEMO_PRIMARY_CALENDAR_ID, LI_LEI_CALENDAR, HAN_MEIMEI_CALENDAR, TEAM_CALENDAR_ID)
    await assert_listings_right(sb, api, *calendars)
    single = (await create(api, **timed(WEEK_START + 9 * HOUR, WEEK_START + 10 * HOUR, summary="Single")))["event_id"]
    on_team = (await create(api, TEAM_CALENDAR_ID, **timed(WEEK_START, WEEK_START + HOUR, summary="Team")))["event_id"]
    await assert_listings_right(sb, api, *calendars)

    await add(api, single, person(LI_LEI_OPEN_ID), room(EVEREST))  # Li Lei's calendar, then the room's
    await assert_listings_right(sb, api, *calendars)
    sb.advance(5)  # the room answers on the next request
    await assert_listings_right(sb, api, *calendars, sb.world.rooms[EVEREST].calendar_id)

    chat = {"type": "chat", "chat_id": DEMO_CHAT_ID}  # every member's primary calendar
    ok(await api.post(attendees_path(on_team, TEAM_CALENDAR_ID), json={"attendees": [chat]}))
    await assert_listings_right(sb, api, *calendars)

    ok(await api.patch(event_path(single), json=timed(WEEK_START + 3 * DAY, WEEK_START + 3 * DAY + HOUR)))  # moved
    await assert_listings_right(sb, api, *calendars)

    li_lei = next(a for a in sb.world.events[single].attendees if a.open_id == LI_LEI_OPEN_ID)
    ok(await api.post(attendees_path(single) + "/batch_delete", json={"attendee_ids": [li_lei.attendee_id]}))
    await assert_listings_right(sb, api, *calendars)

    as_li_lei = {"Authorization": f"Bearer {sb.issue_user_token(LI_LEI_OPEN_ID)}"}
    reply = event_path(on_team, LI_LEI_CALENDAR) + "/reply"
    ok(await api.post(reply, json={"rsvp_status": "decline"}, headers=as_li_lei))
    await assert_listings_right(sb, api, *calendars)

    ok(await api.delete(event_path(single)))
    ok(await api.delete(event_path(on_team, TEAM_CALENDAR_ID)))
    await assert_listings_right(sb, api, *calendars)


async def test_the_index_follows_a_series_its_exceptions_and_their_removal(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    body = timed(WEEK_START + 14 * HOUR, WEEK_START + 15 * HOUR, recurrence="FREQ=DAILY;COUNT=5", summary="Daily")
    series = (await create(api, **body))["event_id"]
    uid = series.removesuffix("_0")
    await add(api, series, person(HAN_MEIMEI_OPEN_ID))
    second, third = f"{uid}_{WEEK_START + DAY + 14 * HOUR}", f"{uid}_{WEEK_START + 2 * DAY + 14 * HOUR}"
    ok(await api.patch(event_path(second), json={"summary": "Moved one"}))  # a stored exception
    ok(await api.delete(event_path(third)))  # a cancelled exception
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_CALENDAR)

    ok(await api.delete(event_path(second), params={"delete_exception": "true"}))  # the record goes altogether
    assert second not in sb.world.events
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_CALENDAR)
    han = next(a for a in sb.world.events[series].attendees if a.open_id == HAN_MEIMEI_OPEN_ID)
    ok(await api.post(attendees_path(series) + "/batch_delete", json={"attendee_ids": [han.attendee_id]}))
    ok(await api.patch(event_path(second), json={"summary": "Changed again"}))  # a new record, same id
    assert second not in await listed_ids(sb, api, HAN_MEIMEI_CALENDAR)
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_CALENDAR)

    ok(await api.patch(event_path(series), json={"recurrence": "FREQ=DAILY;COUNT=2"}))  # drops the later exception
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID, HAN_MEIMEI_CALENDAR)

    weekly = f"{WEEKLY_SYNC_UID}_0"
    ok(await api.delete(event_path(weekly)))  # a seeded series and its exceptions, on several calendars
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID, LI_LEI_CALENDAR, HAN_MEIMEI_CALENDAR)


async def test_new_people_chats_and_rooms_show_events_that_already_named_them(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    """calendars_of reads calendars, chats and rooms: created after the event, they show it all the same."""
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID)
    newcomer, chat_id, room_id = "ou_newcomer0000000000000000000001", "oc_latecomers0000000000000000001", "omm_late01"
    event = _event("sandbox0late0index0test0000000001", WEEK_START + 4 * DAY)
    event.attendees = [
        Attendee("user_newcomer", "user", open_id=newcomer, rsvp_status="accept"),
        Attendee("chat_latecomers", "chat", chat_id=chat_id),
        Attendee("resource_late01", "resource", room_id=room_id, rsvp_status="accept"),
    ]
    eventstore.save(sb.world, event)
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID)
    add_user(sb, newcomer, "Newcomer")
    assert_index_right(sb)
    add_user(sb, "ou_chatmember00000000000000000001", "Chat member")
    add_chat(sb, chat_id, "Latecomers", LI_LEI_OPEN_ID, ["ou_chatmember00000000000000000001", WANG_FANG_OPEN_ID])
    assert_index_right(sb)
    add_room(sb, room_id, "Late room", 4, "A", "1")
    await assert_listings_right(sb, api, primary_calendar_id(newcomer), sb.world.rooms[room_id].calendar_id)


async def test_events_stored_without_save_are_listed_too(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID)
    event = _event("sandbox0stored0directly0000000001", WEEK_START + 5 * DAY)
    sb.world.events[event.event_id] = event  # as a test building a world by hand might
    assert event.event_id in await listed_ids(sb, api, DEMO_PRIMARY_CALENDAR_ID)
    await assert_listings_right(sb, api, DEMO_PRIMARY_CALENDAR_ID)


class _NoScans(dict[str, Event]):
    """The world's events, refusing to be walked: a listing that scans the world fails."""

    def _refuse(self, *args: Any) -> Any:
        raise AssertionError("a listing walked every event in the world")

    values = items = keys = __iter__ = _refuse


async def test_listing_one_calendar_reads_only_that_calendars_events(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    expected = await listed_ids(sb, api, DEMO_PRIMARY_CALENDAR_ID)  # the index is built by now
    first = ok(await api.get(event_path(expected[0])))["event"]
    sb.world.events = _NoScans(sb.world.events)
    sb.world.room_answers_pending = False  # settling rooms walks the world, as it must; none is pending
    assert await listed_ids(sb, api, DEMO_PRIMARY_CALENDAR_ID) == expected
    assert ok(await api.get(event_path(expected[0])))["event"] == first


def _event(uid: str, start: int) -> Event:
    return Event(
        uid=uid,
        original_time=0,
        organizer_calendar_id=DEMO_PRIMARY_CALENDAR_ID,
        organizer_open_id=None,
        start=TimeInfo(timestamp=start),
        end=TimeInfo(timestamp=start + HOUR),
        create_time=WEEK_START,
        summary="Stored by hand",
    )
