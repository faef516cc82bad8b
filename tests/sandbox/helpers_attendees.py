"""Request helpers for the attendee tests (not fixtures)."""

from __future__ import annotations

from typing import Any

import httpx2

from sandbox import DEMO_PRIMARY_CALENDAR_ID, LI_LEI_OPEN_ID, ROOM_IDS, Sandbox, room_booking
from sandbox.seed import primary_calendar_id
from tests.sandbox.helpers_sandbox import HOUR, WEEK_START, create, event_path, ok, timed

EVEREST, KUNLUN, TAISHAN = ROOM_IDS
LI_LEI_CALENDAR = primary_calendar_id(LI_LEI_OPEN_ID)


def attendees_path(event_id: str, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID) -> str:
    return event_path(event_id, calendar_id) + "/attendees"


def person(open_id: str) -> dict[str, str]:
    return {"type": "user", "user_id": open_id}


def room(room_id: str) -> dict[str, str]:
    return {"type": "resource", "room_id": room_id}


async def add(api: httpx2.AsyncClient, event_id: str, *people: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = ok(await api.post(attendees_path(event_id), json={"attendees": people, **extra}))[
        "attendees"
    ]
    return listed


async def answered(
    sb: Sandbox, api: httpx2.AsyncClient, event_id: str, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID
) -> dict[str, dict[str, Any]]:
    """The attendees by id once the rooms have answered: a moment of sandbox clock, then read back."""
    sb.advance(room_booking.ANSWER_DELAY)
    listed: list[dict[str, Any]] = ok(await api.get(attendees_path(event_id, calendar_id)))["items"]
    return by_id(listed)


def by_id(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a.get("user_id") or a.get("room_id") or a.get("chat_id") or a["third_party_email"]: a for a in listed}


async def monday_at(api: httpx2.AsyncClient, hour: int, hours: int = 1, **fields: Any) -> str:
    """A new event of the demo user's on Monday of the seed week."""
    start = WEEK_START + hour * HOUR
    event: dict[str, Any] = await create(api, **timed(start, start + hours * HOUR, summary="New", **fields))
    return str(event["event_id"])
