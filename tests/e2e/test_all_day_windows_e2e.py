"""An all-day event is a date, listed on that date in every zone and on no other.

Feishu pins all-day dates to UTC midnights, so a one-day window in Shanghai (UTC+8) overlaps the
previous date's evening in UTC and one in New York (UTC-5) the next date's morning: "today" used to
list yesterday's (or tomorrow's) holiday too. The tools drop all-day events whose dates miss the
window's own days (tools/common/window.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import Harness

pytestmark = pytest.mark.anyio

ZONES = ("Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC")


def ids(page: dict[str, Any]) -> set[str]:
    return {str(i.get("recurring_event_id") or i["event_id"]) for i in page["items"]}


@pytest.mark.parametrize("zone", ZONES)
async def test_a_holiday_is_listed_on_its_own_date_only(mcp: Harness, zone: str) -> None:
    created = await mcp.call("create_event", summary="Holiday", start="2026-11-26", end="2026-11-26")
    holiday = created["event"]["event_id"]
    for day, listed in (("2026-11-25", False), ("2026-11-26", True), ("2026-11-27", False)):
        window = {"start": day, "end": day, "timezone": zone}
        assert (holiday in ids(await mcp.call("view_instances", **window))) is listed, (day, "view_instances")
        assert (holiday in ids(await mcp.call("list_events", **window))) is listed, (day, "list_events")


@pytest.mark.parametrize("zone", ("Asia/Shanghai", "America/New_York"))
async def test_occurrences_of_an_all_day_series_on_their_own_dates(mcp: Harness, zone: str) -> None:
    created = await mcp.call(
        "create_event", summary="Duty", start="2026-11-26", end="2026-11-26", recurrence="FREQ=WEEKLY;COUNT=3"
    )
    series = created["event"]["event_id"]
    window = {"event_id": series, "start": "2026-11-27", "end": "2026-12-09", "timezone": zone}
    listed = await mcp.call("list_recurring_instances", **window)
    assert [i["start"] for i in listed["items"]] == ["2026-12-03"]
    # A series stays in a window listing by its first date, which may lie before the window.
    assert series in ids(await mcp.call("list_events", start="2026-12-03", end="2026-12-03", timezone=zone))
