"""The scenarios' world: the sandbox pinned to Monday 2026-11-23 10:00 (Asia/Shanghai), plus the
events each request is about, made through the sandbox's own API as their organizers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox import DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, Sandbox
from sandbox.seed_directory import ALL_HANDS_CHAT_ID, CHEN_JING_PRIVATE_OPEN_ID
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session

V4 = "/open-apis/calendar/v4"


async def organize(sb: Sandbox, organizer: str, attendees: list[dict[str, Any]], **event: Any) -> str:
    """An event on ``organizer``'s primary calendar, as they would create it in Feishu."""
    token = sb.issue_user_token(organizer)
    calendar = sb.world.primary_calendar(organizer)
    assert calendar is not None
    async with sb.client(headers={"Authorization": f"Bearer {token}"}) as http:
        created = (await http.post(f"{V4}/calendars/{calendar.calendar_id}/events", json=event)).json()
        event_id = str(created["data"]["event"]["event_id"])
        if attendees:
            path = f"{V4}/calendars/{calendar.calendar_id}/events/{event_id}/attendees"
            answer = (await http.post(path, json={"attendees": attendees})).json()
            assert answer["code"] == 0, answer
    return event_id


def at(day: str, time: str) -> dict[str, str]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return {"timestamp": str(int(moment.timestamp())), "timezone": "Asia/Shanghai"}


@pytest.fixture
async def world() -> Sandbox:
    return await build_world()


async def build_world() -> Sandbox:
    sb = pinned_sandbox()
    await organize(
        sb,
        DEMO_USER_OPEN_ID,
        [{"type": "user", "user_id": LI_LEI_OPEN_ID}],
        summary="Design review: mobile app",
        start_time=at("2026-11-26", "16:00"),
        end_time=at("2026-11-26", "17:00"),
    )
    await organize(
        sb,
        DEMO_USER_OPEN_ID,
        [{"type": "user", "user_id": LI_LEI_OPEN_ID}],
        summary="Roadmap with Li Lei",
        start_time=at("2026-11-24", "15:00"),
        end_time=at("2026-11-24", "16:00"),
    )
    await organize(
        sb,
        DEMO_USER_OPEN_ID,
        [{"type": "user", "user_id": LI_LEI_OPEN_ID}],
        summary="Team standup",
        start_time=at("2026-11-25", "11:00"),
        end_time=at("2026-11-25", "11:15"),
        recurrence="FREQ=WEEKLY;BYDAY=WE;COUNT=12",
    )
    await organize(
        sb,
        CHEN_JING_PRIVATE_OPEN_ID,
        [{"type": "chat", "chat_id": ALL_HANDS_CHAT_ID}],
        summary="All hands",
        attendee_ability="can_see_others",
        start_time=at("2026-11-27", "17:00"),
        end_time=at("2026-11-27", "18:00"),
    )
    await organize(
        sb,
        DEMO_USER_OPEN_ID,
        [],
        summary="Sales sync",
        start_time=at("2026-11-24", "11:00"),
        end_time=at("2026-11-24", "11:30"),
    )
    sb.log.clear()
    return sb


@pytest.fixture
async def assistant(world: Sandbox) -> AsyncIterator[Session]:
    async with session(world) as s:
        yield s
