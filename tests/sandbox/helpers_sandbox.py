"""Small request helpers for the sandbox tests (not fixtures)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx2

from sandbox import DEMO_PRIMARY_CALENDAR_ID

V4 = "/open-apis/calendar/v4"
FREEBUSY = "/open-apis/meeting_room/freebusy/batch_get"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-11-23 10:00 Asia/Shanghai (a Monday): the seed world is built around this instant.
FIXED_NOW = 1795399200.0
# 2026-11-23 (Monday) 00:00 Asia/Shanghai: day 0 ("today") of the seed world under FIXED_NOW.
WEEK_START = 1795363200
HOUR = 3600
DAY = 86400


def events_path(calendar_id: str = DEMO_PRIMARY_CALENDAR_ID) -> str:
    return f"{V4}/calendars/{calendar_id}/events"


def event_path(event_id: str, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID) -> str:
    return f"{events_path(calendar_id)}/{event_id}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def timed(start: int, end: int, timezone: str = "Asia/Shanghai", **fields: Any) -> dict[str, Any]:
    """An event body from Unix seconds."""
    return {
        "start_time": {"timestamp": str(start), "timezone": timezone},
        "end_time": {"timestamp": str(end), "timezone": timezone},
        **fields,
    }


def ok(response: httpx2.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["code"] == 0, body
    data: dict[str, Any] = body["data"]
    return data


def fails(response: httpx2.Response, code: int, status: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    if status is not None:
        assert response.status_code == status, (response.status_code, body)
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]
    return body


async def create(api: httpx2.AsyncClient, calendar_id: str = DEMO_PRIMARY_CALENDAR_ID, **body: Any) -> dict[str, Any]:
    fields = body or timed(WEEK_START + 8 * HOUR, WEEK_START + 9 * HOUR, summary="Created")
    event: dict[str, Any] = ok(await api.post(events_path(calendar_id), json=fields))["event"]
    return event


def rfc3339(seconds: int, zone: dt.tzinfo = SHANGHAI) -> str:
    return dt.datetime.fromtimestamp(seconds, zone).isoformat()


def query(rooms: list[str], lo: int, hi: int) -> dict[str, str | list[str]]:
    """Room free/busy parameters for [lo, hi)."""
    return {"room_ids": rooms, "time_min": rfc3339(lo), "time_max": rfc3339(hi)}


async def busy(api: httpx2.AsyncClient, room: str, lo: int, hi: int) -> list[dict[str, Any]]:
    """The room's busy slots in [lo, hi)."""
    slots: list[dict[str, Any]] = ok(await api.get(FREEBUSY, params=query([room], lo, hi)))["free_busy"][room]
    return slots
