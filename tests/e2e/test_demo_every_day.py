"""The demo tour on every weekday, at every kind of hour, under several machine timezones.

The tour runs in process (the real tour over a real MCP client, on the server and sandbox that
`serve --sandbox` builds) with the one clock pinned, so 7 days x 4 hours x 3 zones take seconds.
The subprocess runs of the real command are in test_first_run.py.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from mcp import Client

from server.cli import sandbox_server
from server.clock import VirtualClock
from server.demo import DEMO_TIMEZONE, tour
from server.settings import Settings
from tests.e2e.harness import DEMO_STEPS, IN_MACHINE_ZONES

pytestmark = pytest.mark.anyio

# Local times in the demo user's zone: just after midnight, morning, afternoon, just before midnight.
HOURS = ((0, 5), (8, 40), (13, 55), (23, 45))
FIRST_DAY = datetime(2026, 11, 30, tzinfo=ZoneInfo(DEMO_TIMEZONE))  # a Monday; the next 6 days follow


async def run_tour_at(moment: datetime) -> str:
    clock = VirtualClock(moment.timestamp())
    settings = Settings.load({"FEISHU_TIMEZONE": DEMO_TIMEZONE}, sandbox=True, toolsets="all")
    out = io.StringIO()
    async with Client(sandbox_server(settings, clock)) as client:
        await tour(client, out, clock)
    return out.getvalue()


@IN_MACHINE_ZONES
async def test_the_tour_runs_every_step_on_every_day_and_hour(machine_zone: str) -> None:
    assert time.strftime("%Z") != "" and time.tzname[0] != ""  # the zone really took effect
    for day in range(7):
        for hour, minute in HOURS:
            moment = (FIRST_DAY + timedelta(days=day)).replace(hour=hour, minute=minute)
            out = await run_tour_at(moment)
            where = f"{moment.isoformat()} ({moment:%A}) on a machine in {machine_zone}"
            for step in DEMO_STEPS:
                assert f"-> {step}(" in out, f"{where}: the tour never called {step}:\n{out}"
            assert f"now {moment.isoformat()}" in out, where  # the tools' "now" is the pinned clock
            assert "waiting for my answer" in out and "accepted:" in out, where
            assert "booking in progress (rsvp=needs_action)" in out, where  # as Feishu: not at once
            assert ": booked (rsvp=accept)" in out and "Tour finished" in out, where
