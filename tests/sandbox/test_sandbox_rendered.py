"""Listings and gets send the JSON kept per event (render.event_text) only while it is still right.

Each check asks twice: once as things are (kept texts in play), once with every kept text thrown
away (rendered afresh), then puts the kept texts back. The bodies must be the same bytes; a key
that missed something the text depends on would send an old text the first time.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import DEMO_PRIMARY_CALENDAR_ID, LI_LEI_OPEN_ID, TEAM_CALENDAR_ID, Sandbox
from sandbox.seed import primary_calendar_id
from tests.sandbox.helpers_attendees import add, attendees_path, person
from tests.sandbox.helpers_sandbox import DAY, HOUR, WEEK_START, bearer, create, event_path, events_path, ok, timed

pytestmark = pytest.mark.anyio

LI_LEI_CALENDAR = primary_calendar_id(LI_LEI_OPEN_ID)


async def same_as_fresh(sb: Sandbox, api: httpx2.AsyncClient, path: str, **request: Any) -> dict[str, Any]:
    kept = await api.get(path, **request)
    texts = {event_id: dict(event.rendered) for event_id, event in sb.world.events.items()}
    for event in sb.world.events.values():
        event.rendered.clear()
    fresh = await api.get(path, **request)
    for event_id, event in sb.world.events.items():  # kept texts stay in play for the next check
        event.rendered.clear()
        event.rendered.update(texts[event_id])
    assert kept.status_code == fresh.status_code == 200
    assert kept.content == fresh.content
    assert kept.headers["content-type"] == "application/json" and kept.headers["content-length"] == str(
        len(kept.content)
    )
    return ok(kept)


async def test_kept_texts_follow_changes_viewers_id_kinds_and_names(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    event_id = (await create(api, **timed(WEEK_START + 10 * HOUR, WEEK_START + 11 * HOUR, summary="Kept")))["event_id"]
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    mine, his = events_path(), events_path(LI_LEI_CALENDAR)
    await same_as_fresh(sb, api, mine)
    await same_as_fresh(sb, api, his, headers=as_li_lei)

    ok(await api.patch(event_path(event_id), json={"summary": "Renamed"}))  # a change
    assert "Renamed" in [e["summary"] for e in (await same_as_fresh(sb, api, mine))["items"]]
    ok(await api.patch(event_path(event_id, LI_LEI_CALENDAR), json={"color": -1}, headers=as_li_lei))  # his own
    await same_as_fresh(sb, api, mine)
    listed = await same_as_fresh(sb, api, his, headers=as_li_lei)
    assert [e["color"] for e in listed["items"] if e["event_id"] == event_id] == [-1]

    by_union = await same_as_fresh(sb, api, mine, params={"user_id_type": "union_id"})
    assert {e["event_organizer"]["user_id"][:3] for e in by_union["items"] if "user_id" in e["event_organizer"]} == {
        "on_"
    }
    await same_as_fresh(sb, api, event_path(event_id), params={"user_id_type": "union_id"})
    sb.world.users[sb.demo_user.open_id].name = "Renamed organizer"  # no API renames anyone; a test may
    got = await same_as_fresh(sb, api, event_path(event_id))
    assert got["event"]["event_organizer"]["display_name"] == "Renamed organizer"


async def test_a_private_event_follows_the_viewers_rights_without_changing(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    body = timed(WEEK_START + 2 * DAY, WEEK_START + 2 * DAY + HOUR, summary="Secret", visibility="private")
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    event_id = ok(await api.post(events_path(TEAM_CALENDAR_ID), json=body, headers=as_li_lei))["event"]["event_id"]
    team = events_path(TEAM_CALENDAR_ID)
    seen = await same_as_fresh(sb, api, team)  # the demo user writes on the team calendar: sees it all
    assert [e["summary"] for e in seen["items"] if e["event_id"] == event_id] == ["Secret"]
    sb.world.calendars[TEAM_CALENDAR_ID].acl[sb.demo_user.open_id] = "reader"  # nothing about the event changed
    seen = await same_as_fresh(sb, api, team)
    assert [e["summary"] for e in seen["items"] if e["event_id"] == event_id] == [""]


async def test_sync_and_window_listings_and_a_removed_attendee(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    his = events_path(LI_LEI_CALENDAR)
    sync_token = (await same_as_fresh(sb, api, his, headers=as_li_lei))["sync_token"]
    event_id = (await create(api, **timed(WEEK_START + 3 * DAY, WEEK_START + 3 * DAY + HOUR, summary="Soon gone")))[
        "event_id"
    ]
    await add(api, event_id, person(LI_LEI_OPEN_ID))
    window = {"start_time": str(WEEK_START), "end_time": str(WEEK_START + 7 * DAY)}
    await same_as_fresh(sb, api, his, headers=as_li_lei, params=window)
    await same_as_fresh(sb, api, his, headers=as_li_lei, params={"sync_token": sync_token})
    li_lei = next(a for a in sb.world.events[event_id].attendees if a.open_id == LI_LEI_OPEN_ID)
    ok(await api.post(attendees_path(event_id) + "/batch_delete", json={"attendee_ids": [li_lei.attendee_id]}))
    changes = await same_as_fresh(sb, api, his, headers=as_li_lei, params={"sync_token": sync_token})
    assert [(e["event_id"], e["status"]) for e in changes["items"]] == [(event_id, "cancelled")]
    listed = await same_as_fresh(sb, api, events_path(DEMO_PRIMARY_CALENDAR_ID), params={"sync_token": sync_token})
    assert [e["status"] for e in listed["items"] if e["event_id"] == event_id] == ["confirmed"]


async def test_one_viewer_sees_an_event_live_on_one_calendar_and_cancelled_in_anothers_sync(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    as_li_lei = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))
    sync_token = (await same_as_fresh(sb, api, events_path()))["sync_token"]
    body = timed(WEEK_START + 4 * DAY, WEEK_START + 4 * DAY + HOUR, summary="Team only")
    event_id = ok(await api.post(events_path(TEAM_CALENDAR_ID), json=body, headers=as_li_lei))["event"]["event_id"]
    ok(await api.post(attendees_path(event_id, TEAM_CALENDAR_ID), json={"attendees": [person(sb.demo_user.open_id)]}))
    await same_as_fresh(sb, api, events_path(), params={"sync_token": sync_token})  # on the demo user's calendar
    demo = next(a for a in sb.world.events[event_id].attendees if a.open_id == sb.demo_user.open_id)
    removal = {"attendee_ids": [demo.attendee_id]}
    ok(await api.post(attendees_path(event_id, TEAM_CALENDAR_ID) + "/batch_delete", json=removal, headers=as_li_lei))
    team = await same_as_fresh(sb, api, events_path(TEAM_CALENDAR_ID))  # still there: confirmed
    assert [e["status"] for e in team["items"] if e["event_id"] == event_id] == ["confirmed"]
    gone = await same_as_fresh(sb, api, events_path(), params={"sync_token": sync_token})  # gone from the demo's
    assert [e["status"] for e in gone["items"] if e["event_id"] == event_id] == ["cancelled"]
