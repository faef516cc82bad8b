"""update_event and delete_event with scope all on a series that has changed and cancelled occurrences.

Feishu does not pass an edit of a series on to its changed occurrences; its CLI's ``--apply-to all``
(lark-calendar-recurring.md) resets every changed and cancelled occurrence first when the time or
the rule changes, and applies any other change to each changed occurrence too. Played through the
MCP client on the pinned sandbox with test_split_series_e2e.py's standup (weekly Wednesday 11:00
from 2026-11-25, twelve times: Dec 2 moved to Dec 3 14:00, Dec 9 cancelled, Dec 23 moved to Dec 24
15:00 and retitled, Dec 30 cancelled, Jan 6 with its own extra attendee); the instances view is
asserted whole, under several machine timezones.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from sandbox import HAN_MEIMEI_OPEN_ID
from tests.e2e.harness import IN_MACHINE_ZONES
from tests.e2e.scheduling_harness import Session
from tests.e2e.test_split_series_e2e import WINTER, Organizer, agenda, mcp, standup, ts

pytestmark = pytest.mark.anyio
__all__ = ["mcp"]  # a fixture, shared with the split tests

UTC = ZoneInfo("UTC")
WEDNESDAYS = [
    "2026-11-25",
    "2026-12-02",
    "2026-12-09",
    "2026-12-16",
    "2026-12-23",
    "2026-12-30",
    "2027-01-06",
    "2027-01-13",
    "2027-01-20",
    "2027-01-27",
    "2027-02-03",
    "2027-02-10",
]


@IN_MACHINE_ZONES
async def test_a_new_time_for_all_resets_every_changed_occurrence_and_says_which(
    mcp: Session, machine_zone: str
) -> None:
    uid = await standup(mcp)
    result = await mcp.call(
        "update_event",
        event_id=f"{uid}_{ts('2026-12-16T11:00')}",
        scope="all",
        start="2026-12-16T10:00",
        end="2026-12-16T10:15",
    )
    writes = [(r.method, r.query.get("delete_exception")) for r in mcp.sb.log if r.method in ("DELETE", "PATCH")]
    assert writes == [("DELETE", "true")] * 5 + [("PATCH", None)]  # as Feishu's CLI: the occurrences first
    # Every Wednesday at the new time: moved ones back in line, cancelled ones back, the 12 of COUNT.
    assert await agenda(mcp, WINTER, "Standup") == [(f"{day}T10:00", "Standup") for day in WEDNESDAYS]
    reset = "reset the changed occurrence of Wed {}: its own changes are dropped, it follows the series"
    back = (
        "the occurrence of Wed {} had been cancelled: it takes place again at the series' new time "
        "(delete it with scope this to cancel it again)"
    )
    assert result["warnings"] == [
        f"changed every occurrence of the series {uid}_0",
        reset.format("2026-12-02 11:00 (moved to Thu 2026-12-03 14:00)"),
        back.format("2026-12-09 11:00"),
        reset.format("2026-12-23 11:00 (moved to Thu 2026-12-24 15:00)"),
        back.format("2026-12-30 11:00"),
        reset.format("2027-01-06 11:00"),  # not moved: its own attendee
    ]
    # Jan 6's own attendee went with its changes; no record of the old occurrences is left.
    world = mcp.sb.world
    assert not [e for e in world.events.values() if e.uid == uid and e.is_exception]
    assert world.events[f"{uid}_0"].attendee_for_user(HAN_MEIMEI_OPEN_ID) is None


@IN_MACHINE_ZONES
async def test_other_fields_for_all_reach_the_changed_occurrences_too(mcp: Session, machine_zone: str) -> None:
    uid = await standup(mcp)
    first = ts("2026-11-25T11:00")
    # Its own time given back (an echo, as a model may send it) is no new time: nothing is reset.
    result = await mcp.call(
        "update_event",
        event_id=f"{uid}_{first}",
        scope="all",
        summary="Sync",
        start="2026-11-25T11:00",
        end="2026-11-25T11:15",
    )
    assert await agenda(mcp, WINTER, "Sync") == [
        ("2026-11-25T11:00", "Sync"),
        ("2026-12-03T14:00", "Sync"),  # keeps its own time, takes the new title
        ("2026-12-16T11:00", "Sync"),
        ("2026-12-24T15:00", "Sync"),  # its own title ("Standup (Xmas)") gives way to the series'
        ("2027-01-06T11:00", "Sync"),
        ("2027-01-13T11:00", "Sync"),
        ("2027-01-20T11:00", "Sync"),
        ("2027-01-27T11:00", "Sync"),
        ("2027-02-03T11:00", "Sync"),
        ("2027-02-10T11:00", "Sync"),
    ]  # Dec 9 and Dec 30 stay cancelled
    assert result["warnings"] == [
        f"changed every occurrence of the series {uid}_0",
        "made the same change to the changed occurrences of Wed 2026-12-02 11:00, Wed 2026-12-23 11:00, "
        "Wed 2027-01-06 11:00 (Feishu does not pass it on to them)",
    ]
    assert mcp.sb.world.events[f"{uid}_{ts('2027-01-06T11:00')}"].attendee_for_user(HAN_MEIMEI_OPEN_ID)


@IN_MACHINE_ZONES
async def test_deleting_all_removes_the_changed_occurrences_first_and_names_them(
    mcp: Session, machine_zone: str
) -> None:
    uid = await standup(mcp)
    done = await mcp.call("delete_event", event_id=f"{uid}_{ts('2026-12-16T11:00')}", scope="all")
    writes = [(r.method, r.path.rsplit("_", 1)[-1], r.query.get("delete_exception")) for r in mcp.sb.log]
    writes = [w for w in writes if w[0] == "DELETE"]
    # Feishu's CLI: every changed or cancelled occurrence's own record, then the series.
    assert writes == [("DELETE", str(ts(f"{day}T11:00")), "true") for day in WEDNESDAYS if day in CHANGED] + [
        ("DELETE", "0", None)
    ]
    assert f"deleted the whole series {uid}_0" in done["detail"]
    assert (
        "deleted its changed occurrences too (Thu 2026-12-03 14:00, Thu 2026-12-24 15:00, Wed 2027-01-06 11:00)"
        in (done["detail"])
    )
    assert await agenda(mcp, WINTER, "Standup") == []  # the moved ones included
    assert not [e for e in mcp.sb.world.events.values() if e.uid == uid and not e.deleted]


CHANGED = ("2026-12-02", "2026-12-09", "2026-12-23", "2026-12-30", "2027-01-06")  # standup's exceptions


async def test_an_all_day_series_given_its_own_dates_back_keeps_its_changed_days(mcp: Session) -> None:
    me = Organizer(mcp.sb)
    uid = await me.series(
        summary="Day off",
        start_time={"date": "2026-11-27"},
        end_time={"date": "2026-11-27"},
        recurrence="FREQ=WEEKLY;UNTIL=20261218",
    )
    await me.send("PATCH", f"/{uid}_{ts('2026-12-04T00:00', UTC)}", {"summary": "Day off (moved talk)"})
    result = await mcp.call(
        "update_event", event_id=f"{uid}_0", scope="all", summary="Leave", start="2026-11-27", end="2026-11-27"
    )
    assert result["warnings"][1:] == [
        "made the same change to the changed occurrences of Fri 2026-12-04 (Feishu does not pass it on to them)"
    ]
