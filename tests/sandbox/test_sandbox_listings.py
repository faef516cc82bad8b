"""Listing events: windows, paging, sync tokens, anchor, search, instances and instance_view."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx2
import pytest

from sandbox import ROOM_IDS, TEAM_CALENDAR_ID, WEEKLY_SYNC_UID, Sandbox
from tests.sandbox.helpers_sandbox import DAY, HOUR, WEEK_START, create, event_path, events_path, fails, ok, timed

pytestmark = pytest.mark.anyio

WEEK = {"start_time": str(WEEK_START), "end_time": str(WEEK_START + 7 * DAY)}
MOVED = f"{WEEKLY_SYNC_UID}_{WEEK_START + DAY + 10 * HOUR}"
CANCELLED = f"{WEEKLY_SYNC_UID}_{WEEK_START + 15 * DAY + 10 * HOUR}"


async def test_window_lists_singles_series_and_exceptions_without_paging(api: httpx2.AsyncClient) -> None:
    data = ok(await api.get(events_path(), params={**WEEK, "page_size": 50}))
    ids = [e["event_id"] for e in data["items"]]
    assert f"{WEEKLY_SYNC_UID}_0" in ids and MOVED in ids and CANCELLED not in ids
    assert data["has_more"] is False and "page_token" not in data
    assert all("attendees" not in e for e in data["items"])


async def test_page_size_limits_and_conflicting_parameters(api: httpx2.AsyncClient) -> None:
    fails(await api.get(events_path(), params={"page_size": 49}), 99992402, 400)
    fails(await api.get(events_path(), params={"page_size": 1001}), 99992402, 400)
    sync = ok(await api.get(events_path()))["sync_token"]
    fails(await api.get(events_path(), params={**WEEK, "sync_token": sync}), 190009, 400)
    fails(await api.get(events_path(), params={"start_time": WEEK["start_time"]}), 190002)
    fails(await api.get(events_path(), params={"sync_token": "garbage"}), 190008, 400)


async def test_paging_then_sync_reports_creates_updates_and_deletions(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    created = [
        (await create(api, **timed(WEEK_START + 30 * DAY + hour * HOUR, WEEK_START + 30 * DAY + hour * HOUR + 1800)))[
            "event_id"
        ]
        for hour in range(60)
    ]
    seen: list[str] = []
    # list.md: only a listing with anchor_time pages (an anchor at 0 keeps every event).
    params: dict[str, str | int] = {"page_size": 50, "anchor_time": 0}
    for _ in range(10):  # bounded: a listing that never ends fails instead of hanging
        data = ok(await api.get(events_path(), params=params))
        seen += [e["event_id"] for e in data["items"]]
        if not data["has_more"]:
            sync_token = data["sync_token"]
            assert "page_token" not in data
            break
        assert "sync_token" not in data
        params = {"page_size": 50, "page_token": data["page_token"]}
    assert len(seen) == len(set(seen)) >= 66
    plain = ok(await api.get(events_path(), params={"page_size": 50}))
    # Without anchor_time the rest cannot be reached: has_more, but neither token.
    assert len(plain["items"]) == 50 and plain["has_more"] is True and set(plain) == {"has_more", "items"}

    assert ok(await api.get(events_path(), params={"sync_token": sync_token}))["items"] == []
    added = await create(api, summary="New one", **timed(WEEK_START, WEEK_START + HOUR))
    renamed, deleted = created[:2]  # the demo user's own (the seed also lists others' invitations)
    ok(await api.patch(event_path(renamed), json={"summary": "Renamed"}))
    ok(await api.delete(event_path(deleted)))
    changes = ok(await api.get(events_path(), params={"sync_token": sync_token}))
    by_id = {e["event_id"]: e for e in changes["items"]}
    assert set(by_id) == {added["event_id"], renamed, deleted}
    assert by_id[deleted]["status"] == "cancelled" and by_id[renamed]["summary"] == "Renamed"
    assert ok(await api.get(events_path(), params={"sync_token": changes["sync_token"]}))["items"] == []
    sb.expire_sync_tokens()
    fails(await api.get(events_path(), params={"sync_token": changes["sync_token"]}), 190008)


async def test_sync_tells_an_attendee_when_they_are_removed(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sync_token = ok(await api.get(events_path()))["sync_token"]
    review = sb.world.events["sandbox0design0review00000000003_0"]
    review.attendees = [a for a in review.attendees if a.open_id != sb.demo_user.open_id]
    from sandbox import eventstore

    eventstore.touch(sb.world, review)
    changes = ok(await api.get(events_path(), params={"sync_token": sync_token}))["items"]
    assert [(e["event_id"], e["status"]) for e in changes] == [(review.event_id, "cancelled")]


async def test_anchor_time_keeps_all_series_and_later_events(api: httpx2.AsyncClient) -> None:
    anchor = WEEK_START + 3 * DAY
    items = ok(await api.get(events_path(), params={"anchor_time": anchor}))["items"]
    ids = {e["event_id"] for e in items}
    assert f"{WEEKLY_SYNC_UID}_0" in ids  # a series, though it started weeks ago
    assert "sandbox0one0on0one0lilei0000000002_0" not in ids  # Monday's, ended before the anchor
    assert "sandbox0sprint0retro000000000007_0" in ids
    fails(await api.get(events_path(), params={"anchor_time": anchor, "start_time": 1, "end_time": 2}), 190002)


async def test_search_by_title_time_and_room(api: httpx2.AsyncClient) -> None:
    path = events_path() + "/search"
    week = {"start_time": {"timestamp": str(WEEK_START)}, "end_time": {"timestamp": str(WEEK_START + 7 * DAY)}}
    titles = [e["summary"] for e in ok(await api.post(path, json={"query": "SYNC", "filter": week}))["items"]]
    assert "Weekly product sync" in titles
    in_room = {**week, "room_ids": [ROOM_IDS[2]]}
    by_room = ok(await api.post(path, json={"query": "", "filter": in_room}))["items"]
    assert [e["summary"] for e in by_room] == ["Design review: calendar assistant"]
    friday_start, friday_end = str(WEEK_START + 4 * DAY), str(WEEK_START + 5 * DAY)
    window = {"start_time": {"timestamp": friday_start}, "end_time": {"timestamp": friday_end}}
    friday = ok(await api.post(path, json={"query": "", "filter": window}))["items"]
    assert [e["summary"] for e in friday] == ["Sprint retro"]
    fails(await api.post(path, json={}), 190002)
    fails(await api.post(path, json={"query": "x" * 201}), 190002)
    fails(await api.post(path, params={"page_size": 101}, json={"query": ""}), 99992402)
    await create(api, **timed(WEEK_START, WEEK_START + HOUR, summary="ops_review"))
    assert ok(await api.post(path, json={"query": "ops_rev"}))["items"] == []
    assert len(ok(await api.post(path, json={"query": "ops_review"}))["items"]) == 1


async def test_search_pages_by_page_token_without_has_more(api: httpx2.AsyncClient) -> None:
    for day in range(12):
        await create(api, **timed(WEEK_START + day * DAY, WEEK_START + day * DAY + HOUR, summary=f"Standup {day}"))
    path = events_path() + "/search"
    query = {"query": "standup", "filter": {"start_time": {"timestamp": str(WEEK_START)}}}
    first = ok(await api.post(path, params={"page_size": 3}, json=query))
    assert len(first["items"]) == 10 and "has_more" not in first and first["page_token"]  # 3 is raised to 10
    more = {"page_size": 10, "page_token": first["page_token"]}
    rest = ok(await api.post(path, params=more, json=query))
    assert len(rest["items"]) == 2 and "page_token" not in rest


async def test_instances_apply_exceptions_and_cancellations(api: httpx2.AsyncClient) -> None:
    path = event_path(f"{WEEKLY_SYNC_UID}_0") + "/instances"
    data = ok(await api.get(path, params={"start_time": WEEK_START, "end_time": WEEK_START + 21 * DAY}))
    items = {i["event_id"]: i for i in data["items"]}
    assert items[MOVED]["is_exception"] is True and items[MOVED]["start_time"]["timestamp"] == str(
        WEEK_START + DAY + 14 * HOUR
    )
    assert items[CANCELLED]["status"] == "cancelled"
    plain = items[f"{WEEKLY_SYNC_UID}_{WEEK_START + 8 * DAY + 10 * HOUR}"]
    assert plain["is_exception"] is False and set(plain) >= {"summary", "app_link", "location"}
    eight_weeks = {"start_time": WEEK_START - 28 * DAY, "end_time": WEEK_START + 28 * DAY, "page_size": 10}
    paged = ok(await api.get(path, params=eight_weeks))
    assert len(paged["items"]) == 8 and paged["has_more"] is False
    fails(await api.get(path, params={"start_time": WEEK_START}), 190002)
    fails(await api.get(path, params={"start_time": WEEK_START, "end_time": WEEK_START + 800 * DAY}), 190002)
    too_small = {"start_time": WEEK_START, "end_time": WEEK_START + DAY, "page_size": 9}
    fails(await api.get(path, params=too_small), 99992402)


async def test_instances_page_through_a_long_series(api: httpx2.AsyncClient) -> None:
    daily = await create(api, **timed(WEEK_START, WEEK_START + HOUR, recurrence="FREQ=DAILY", summary="Daily"))
    path = event_path(daily["event_id"]) + "/instances"
    params = {"start_time": WEEK_START, "end_time": WEEK_START + 25 * DAY, "page_size": 10}
    first = ok(await api.get(path, params=params))
    assert len(first["items"]) == 10 and first["has_more"] is True
    second = ok(await api.get(path, params={**params, "page_token": first["page_token"]}))
    third = ok(await api.get(path, params={**params, "page_token": second["page_token"]}))
    assert len(third["items"]) == 5 and third["has_more"] is False


async def test_instance_view_expands_and_limits(api: httpx2.AsyncClient) -> None:
    path = events_path() + "/instance_view"
    items = ok(await api.get(path, params=WEEK))["items"]
    starts = [int(i["start_time"]["timestamp"]) for i in items if "timestamp" in i["start_time"]]
    assert starts == sorted(starts)
    moved = next(i for i in items if i["event_id"] == MOVED)
    assert moved["recurring_event_id"] == f"{WEEKLY_SYNC_UID}_0"
    assert [a["room_id"] for a in moved["attendees"]] == [ROOM_IDS[0]]  # rooms only
    fails(await api.get(path, params={"start_time": WEEK_START, "end_time": WEEK_START + 40 * DAY}), 193103, 400)
    ok(await api.get(path, params={"start_time": WEEK_START, "end_time": WEEK_START + 40 * DAY - 1}))
    await create(api, **timed(WEEK_START, WEEK_START + 600, recurrence="FREQ=MINUTELY;INTERVAL=30", summary="Ping"))
    fails(await api.get(path, params={"start_time": WEEK_START, "end_time": WEEK_START + 30 * DAY}), 193104, 400)


async def test_instance_view_of_the_team_calendar_shows_its_all_day_event(api: httpx2.AsyncClient) -> None:
    items = ok(await api.get(events_path(TEAM_CALENDAR_ID) + "/instance_view", params=WEEK))["items"]
    assert [i["summary"] for i in items] == ["Team offsite planning"]
    assert items[0]["start_time"] == {"date": "2026-11-25", "timezone": "UTC"}


async def test_weekly_series_keeps_local_time_across_dst(api: httpx2.AsyncClient) -> None:
    zone = ZoneInfo("America/New_York")
    first = int(dt.datetime(2026, 10, 20, 10, 0, tzinfo=zone).timestamp())
    series = await create(
        api, **timed(first, first + HOUR, timezone="America/New_York", recurrence="FREQ=WEEKLY;COUNT=4", summary="NY")
    )
    path = event_path(series["event_id"]) + "/instances"
    items = ok(await api.get(path, params={"start_time": first, "end_time": first + 40 * DAY}))["items"]
    local = [dt.datetime.fromtimestamp(int(i["start_time"]["timestamp"]), zone) for i in items]
    assert [t.hour for t in local] == [10, 10, 10, 10]
    assert local[-1].date() == dt.date(2026, 11, 10)


async def test_anchor_listing_pages_keep_the_anchor(api: httpx2.AsyncClient) -> None:
    for day in range(90):
        await create(api, **timed(WEEK_START + day * DAY, WEEK_START + day * DAY + HOUR, summary=f"Day {day}"))
    anchor = WEEK_START + 20 * DAY
    first = ok(await api.get(events_path(), params={"anchor_time": anchor, "page_size": 50}))
    rest = ok(await api.get(events_path(), params={"page_token": first["page_token"], "page_size": 50}))
    days = [e["summary"] for e in first["items"] + rest["items"] if e["summary"].startswith("Day ")]
    assert days == [f"Day {d}" for d in range(20, 90)]
    assert rest["has_more"] is False and rest["sync_token"]
    for forged in ("bm90IGEgdG9rZW4", "ZXZwYWdlOng6eTp6", first["page_token"] + "AA"):
        fails(await api.get(events_path(), params={"page_token": forged}), 190008)
