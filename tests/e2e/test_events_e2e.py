"""The nine event tools through a real MCP client against the sandbox: result, and what went on the wire."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import DEMO_PRIMARY_CALENDAR_ID, TEAM_CALENDAR_ID
from tests.e2e.harness import Harness

pytestmark = pytest.mark.anyio

EVENTS = f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events"


async def create(mcp: Harness, **extra: Any) -> dict[str, Any]:
    arguments = {"summary": "Design review", "start": "2026-11-24T15:00", "end": "2026-11-24T16:00", **extra}
    event: dict[str, Any] = (await mcp.call("create_event", **arguments))["event"]
    return event


async def test_create_event_converts_times_and_resolves_primary(mcp: Harness) -> None:
    result = await mcp.call(
        "create_event",
        summary="Design review",
        start="2026-11-24T15:00",
        end="2026-11-24T16:00",
        timezone="Asia/Shanghai",
        description="Agenda in the doc",
        reminders=[15],
        idempotency_key="e2e-create-design-review-0000000001",
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", EVENTS)
    assert sent.body["summary"] == "Design review"
    assert sent.body["start_time"] == {"timestamp": "1795503600", "timezone": "Asia/Shanghai"}
    assert sent.body["end_time"] == {"timestamp": "1795507200", "timezone": "Asia/Shanghai"}
    assert sent.body["reminders"] == [{"minutes": 15}]
    assert sent.query["idempotency_key"] == "e2e-create-design-review-0000000001"
    event = result["event"]
    assert event["event_id"] and event["organizer_calendar_id"] == DEMO_PRIMARY_CALENDAR_ID
    assert event["start"] == "2026-11-24T15:00:00+08:00" and event["end"] == "2026-11-24T16:00:00+08:00"
    assert event["external_content"]["summary"] == "Design review"
    assert "summary" not in event  # people's text only under external_content


async def test_same_idempotency_key_gives_the_same_event(mcp: Harness) -> None:
    key = "e2e-idempotent-create-000000000000001"
    first = await create(mcp, idempotency_key=key)
    second = await create(mcp, idempotency_key=key)
    assert first["event_id"] == second["event_id"]


async def test_all_day_event_from_dates(mcp: Harness) -> None:
    event = await create(mcp, summary="Offsite", start="2026-11-26", end="2026-11-27")
    sent = mcp.sent()
    assert sent.body["start_time"] == {"date": "2026-11-26"}
    # No key given: the tool made one, so a retried create cannot make a second event.
    assert 32 <= len(str(sent.query["idempotency_key"])) <= 128
    assert event["start"] == "2026-11-26"


async def test_a_one_day_all_day_event_ends_on_its_own_date_as_the_schema_says(mcp: Harness) -> None:
    # Feishu's all-day end date is the last day (sandbox/README.md); a model used to exclusive ends
    # sent the next day and got two days, since the schema said only "a date makes it all-day".
    tools = {t.name: t for t in (await mcp.client.list_tools()).tools}
    for name in ("create_event", "update_event"):
        assert "one day: end = start" in tools[name].input_schema["properties"]["end"]["description"]
    event = await create(mcp, summary="Holiday", start="2026-11-26", end="2026-11-26")
    assert (event["start"], event["end"]) == ("2026-11-26", "2026-11-26")
    day = await mcp.call("view_instances", start="2026-11-26", end="2026-11-26")
    after = await mcp.call("view_instances", start="2026-11-27", end="2026-11-27")
    assert event["event_id"] in [i.get("recurring_event_id") or i["event_id"] for i in day["items"]]
    assert event["event_id"] not in [i.get("recurring_event_id") or i["event_id"] for i in after["items"]]


async def test_get_event(mcp: Harness) -> None:
    event_id = (await create(mcp))["event_id"]
    result = await mcp.call("get_event", event_id=event_id, need_attendee=True)
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", f"{EVENTS}/{event_id}")
    assert sent.query["need_attendee"] == "true"
    assert result["event"]["event_id"] == event_id
    assert result["event"]["external_content"]["summary"] == "Design review"


async def test_update_event_moves_it(mcp: Harness) -> None:
    event_id = (await create(mcp))["event_id"]
    result = await mcp.call(
        "update_event", event_id=event_id, start="2026-11-26T10:00+08:00", end="2026-11-26T11:00+08:00"
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("PATCH", f"{EVENTS}/{event_id}")
    assert set(sent.body) == {"start_time", "end_time"}  # a patch sends only what changes
    assert result["event"]["start"] == "2026-11-26T10:00:00+08:00"
    fetched = await mcp.call("get_event", event_id=event_id)
    assert fetched["event"]["end"] == "2026-11-26T11:00:00+08:00"


async def test_delete_event(mcp: Harness) -> None:
    event_id = (await create(mcp))["event_id"]
    assert (await mcp.call("delete_event", event_id=event_id))["ok"] is True
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("DELETE", f"{EVENTS}/{event_id}")
    message = await mcp.fail("get_event", event_id=event_id)
    assert "get_event" in message and "193" in message  # Feishu's code for a deleted/missing event


async def test_list_events_window_in_unix_seconds_and_sync(mcp: Harness) -> None:
    await create(mcp, summary="Listed")
    page = await mcp.call("list_events", start="2026-11-23", end="2026-11-29", page_size=50)
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", EVENTS)
    assert sent.query["start_time"] == "1795363200" and sent.query["end_time"] == "1795968000"
    assert any(e.get("external_content", {}).get("summary") == "Listed" for e in page["items"])
    first_sync = await mcp.call("list_events")
    assert first_sync["sync_token"]
    event = await create(mcp, summary="Changed later")
    changes = await mcp.call("list_events", sync_token=first_sync["sync_token"])
    assert [e["event_id"] for e in changes["items"]] == [event["event_id"]]


async def test_list_events_pages_only_with_anchor_time(mcp: Harness) -> None:
    for slot in range(50):  # with the seed's events, more than one page of 50
        at = f"2026-12-{1 + slot // 10:02d}T{8 + slot % 10:02d}"
        await create(mcp, summary=f"Slot {slot}", start=f"{at}:00", end=f"{at}:30")
    plain = await mcp.call("list_events", page_size=50)
    assert plain["has_more"] is True and not plain["page_token"] and not plain["sync_token"]
    first = await mcp.call("list_events", anchor_time="2026-11-01", page_size=50)
    assert mcp.sent().query["anchor_time"] == "1793462400" and first["page_token"]
    rest = await mcp.call("list_events", anchor_time="2026-11-01", page_size=50, page_token=first["page_token"])
    assert rest["has_more"] is False and rest["sync_token"]
    changes = await mcp.call("list_events", anchor_time="2026-11-01", sync_token=rest["sync_token"])
    assert changes["items"] == [] and changes["sync_token"]


async def test_search_events(mcp: Harness) -> None:
    await create(mcp, summary="Quarterly budget planning")
    # Without start/end Feishu searches only the recent month, and the event is later this week.
    result = await mcp.call("search_events", query="budget", start="2026-11-23", end="2026-11-29")
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/search")
    assert sent.body["query"] == "budget"
    assert [e["external_content"]["summary"] for e in result["items"]] == ["Quarterly budget planning"]
    assert result["has_more"] is False and not result["page_token"]


async def test_search_pages_on_page_token(mcp: Harness) -> None:
    for hour in range(8, 19):  # 11 matches; Feishu pages search results 10 at a time at the least
        await create(mcp, summary="Budget sync", start=f"2026-11-24T{hour:02d}:00", end=f"2026-11-24T{hour:02d}:30")
    week = {"start": "2026-11-23", "end": "2026-11-29"}
    first = await mcp.call("search_events", query="Budget sync", page_size=10, **week)
    # Feishu's search answer has no has_more; the tool derives it from the page token.
    assert len(first["items"]) == 10 and first["page_token"] and first["has_more"] is True
    rest = await mcp.call("search_events", query="Budget sync", page_size=10, page_token=first["page_token"], **week)
    assert len(rest["items"]) == 1 and rest["has_more"] is False
    assert rest["items"][0]["event_id"] not in {e["event_id"] for e in first["items"]}


async def test_view_instances_expands_recurring_events(mcp: Harness) -> None:
    result = await mcp.call("view_instances", start="2026-11-23", end="2026-11-29")
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", f"{EVENTS}/instance_view")
    assert sent.query["start_time"] == "1795363200" and sent.query["end_time"] == "1795968000"
    assert len(result["items"]) >= 3
    assert all(item["start"].endswith("+08:00") or len(item["start"]) == 10 for item in result["items"])


async def test_recurring_instances_and_reply(mcp: Harness) -> None:
    weekly = await create(
        mcp, summary="Standup", start="2026-11-24T10:00", end="2026-11-24T10:15", recurrence="FREQ=WEEKLY;COUNT=4"
    )
    result = await mcp.call(
        "list_recurring_instances", event_id=weekly["event_id"], start="2026-11-23", end="2027-01-31"
    )
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("GET", f"{EVENTS}/{weekly['event_id']}/instances")
    assert [item["start"][:10] for item in result["items"]] == ["2026-11-24", "2026-12-01", "2026-12-08", "2026-12-15"]


async def test_reply_records_rsvp_on_an_invitation(mcp: Harness) -> None:
    invited = next(
        item
        for item in (await mcp.call("view_instances", start="2026-11-23", end="2026-11-29"))["items"]
        if item.get("organizer_calendar_id") not in (None, DEMO_PRIMARY_CALENDAR_ID)
    )
    assert (await mcp.call("reply_event", event_id=invited["event_id"], rsvp_status="tentative"))["ok"] is True
    sent = mcp.sent()
    assert (sent.method, sent.path) == ("POST", f"{EVENTS}/{invited['event_id']}/reply")
    assert sent.body == {"rsvp_status": "tentative"}


async def test_other_calendar_ids_are_passed_through(mcp: Harness) -> None:
    await mcp.call("list_events", calendar_id=TEAM_CALENDAR_ID)
    assert mcp.sent().path == f"/open-apis/calendar/v4/calendars/{TEAM_CALENDAR_ID}/events"
