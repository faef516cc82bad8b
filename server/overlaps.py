"""Overlap warnings: after creating or moving an event, name the busy events it collides with.

One instance_view query over the event's own time span; a failure of that query only adds a
note, it never turns a successful write into an error.
"""

from __future__ import annotations

import logging
from typing import Any

from server.errors import FeishuError
from server.paths import fill_route
from server.state import AppState
from tools.common.outputs import EventResult
from tools.common.times import render_time_info
from tools.events_agenda import view_instances
from tools.spec import Replay

log = logging.getLogger("feishu_calendar_mcp.overlaps")


def _span(event: dict[str, Any]) -> tuple[int, int] | None:
    try:
        return int(event["start_time"]["timestamp"]), int(event["end_time"]["timestamp"])
    except (KeyError, TypeError, ValueError):
        return None  # all-day events have dates, and are rarely what "busy" means


async def add_overlap_warnings(result: EventResult, calendar_id: str, state: AppState) -> EventResult:
    event = result.event
    span = _span(event)
    if span is None or event.get("status") == "cancelled":
        return result
    try:
        data = await state.client.call(
            "overlap check",
            "GET",
            fill_route(view_instances.route, {"calendar_id": calendar_id}),
            query=[("start_time", str(span[0])), ("end_time", str(span[1]))],
            replay=Replay.SAFE,
        )
    except FeishuError as exc:
        log.info("overlap check failed: code %s", exc.code)
        return result.model_copy(update={"warnings": [*result.warnings, "could not check for overlaps"]})
    own = str(event.get("event_id", "")).rsplit("_", 1)[0]
    warnings = list(result.warnings)
    for item in data.get("items") or []:
        other = _span(item)
        if other is None or item.get("status") == "cancelled" or item.get("free_busy_status") == "free":
            continue
        if str(item.get("event_id", "")).rsplit("_", 1)[0] == own:
            continue
        if other[0] < span[1] and span[0] < other[1]:
            start = render_time_info(item.get("start_time"))
            end = render_time_info(item.get("end_time"))
            warnings.append(f"overlaps busy event {item.get('event_id')} ({start} to {end})")
    return result.model_copy(update={"warnings": warnings})
