"""No failure reaches the model as a bare "Error executing tool": odd replies, crashes, bad input."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx2
import pytest
from mcp import Client

import server.registry
import server.writes
from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.upstream import Upstream, server_for, text
from tools import OPERATIONS

pytestmark = pytest.mark.anyio
BARE = re.compile(r"^Error executing tool \w+:?\s*$")

# Minimal valid arguments per tool (ids explicit so no primary-calendar lookup is needed).
IDS = {"calendar_id": "cal_1@x", "event_id": "e1_0"}
ARGS: dict[str, dict[str, Any]] = {
    "create_event": {"calendar_id": "cal_1@x", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"},
    "delete_event": IDS,
    "update_event": {**IDS, "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"},
    "get_event": IDS,
    "list_events": {"calendar_id": "cal_1@x"},
    "search_events": {"calendar_id": "cal_1@x", "query": "x"},
    "reply_event": {**IDS, "rsvp_status": "accept"},
    "list_recurring_instances": {**IDS, "start": "2026-11-01", "end": "2026-11-30"},
    "view_instances": {"calendar_id": "cal_1@x", "start": "2026-11-01", "end": "2026-11-20"},
    "create_meeting_chat": IDS,
    "unbind_meeting_chat": {**IDS, "meeting_chat_id": "oc_1"},
    "create_meeting_minutes": IDS,
    "get_room_freebusy": {"room_ids": ["omm_1"], "start": "2026-11-23", "end": "2026-11-24"},
    "add_attendees": {**IDS, "attendees": [{"type": "user", "user_id": "ou_1"}]},
    "remove_attendees": {**IDS, "attendee_ids": ["user_1"]},
    "list_attendees": IDS,
    "list_chat_members": {**IDS, "attendee_id": "chat_1"},
    "subscribe_events": {"calendar_id": "cal_1@x"},
    "unsubscribe_events": {"calendar_id": "cal_1@x"},
    "generate_caldav_config": {},
    "create_exchange_binding": {},
    "delete_exchange_binding": {"exchange_binding_id": "ZXhj"},
    "get_exchange_binding": {"exchange_binding_id": "ZXhj"},
    "find_people": {"query": "Li"},
    "get_free_busy": {"people": ["ou_1"], "rooms": ["omm_1"], "start": "2026-11-23", "end": "2026-11-24"},
    "find_meeting_times": {"attendees": ["ou_1"], "duration_minutes": 30, "start": "2036-11-24", "end": "2036-11-25"},
    "find_rooms": {"min_capacity": 2, "start": "2026-11-23T10:00", "end": "2026-11-23T11:00"},
    "list_calendars": {},
}
# Replies a buggy or changed Feishu could send: right envelope, wrong shapes inside.
ODD_DATA: list[Any] = [
    None,
    [],
    "text",
    {"items": 5, "event": "x", "attendees": {"a": 1}, "page_token": 7, "has_more": "maybe"},
    {"items": [None, 3, "x"], "event": {"start_time": "now", "end_time": {"timestamp": "soon"}}},
    {"free_busy": [1, 2], "calendars": "x", "freebusy_list": None},
]


def test_every_tool_has_arguments_here() -> None:
    assert set(ARGS) == {op.name for op in OPERATIONS}


@pytest.mark.parametrize("tool", sorted(ARGS))
async def test_odd_replies_never_crash_bare(tool: str) -> None:
    steps = [httpx_reply(data) for data in ODD_DATA]
    upstream = Upstream(*steps)
    async with Client(server_for(upstream, VirtualClock())) as client:
        for _ in ODD_DATA:
            result = await client.call_tool(tool, ARGS[tool])
            if result.is_error:
                message = text(result)
                assert not BARE.match(message), message
                # A reply we cannot shape is our problem to fix, reported with a reference.
                assert "reference" in message or "Feishu" in message, message


def httpx_reply(data: Any) -> httpx2.Response:
    return httpx2.Response(200, json={"code": 0, "msg": "success", "data": data})


async def test_an_internal_error_is_logged_with_a_traceback_and_shown_with_a_reference(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(server.writes, "fill_route", broken)
    with caplog.at_level(logging.ERROR, logger="feishu_calendar_mcp.tools"):
        async with Client(server_for(Upstream(), VirtualClock())) as client:
            result = await client.call_tool("get_event", IDS)
    assert result.is_error
    message = text(result)
    reference = re.search(r"reference ([0-9a-f]{12})", message)
    assert reference, message
    assert "a bug of ours" not in message  # internals stay in the log
    record = next(r for r in caplog.records if reference.group(1) in r.getMessage())
    assert record.exc_info is not None
    assert "a bug of ours" in caplog.text


async def test_invalid_input_is_refused_before_the_network_with_the_field_named() -> None:
    upstream = Upstream()
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("get_event", {**IDS, "max_attendee_num": 1000})
        confirm = await client.call_tool("delete_event", {"calendar_id": "cal_1@x", "event_id": ""})
    assert result.is_error
    assert "max_attendee_num" in text(result)
    assert "nothing was sent to Feishu" in text(result)
    assert confirm.is_error
    assert "event_id" in text(confirm)
    assert upstream.requests == []


async def test_a_missing_token_says_how_to_sign_in() -> None:
    server = build_server(all_tools_settings(), StaticToken(""), transport=httpx2.MockTransport(Upstream()))
    async with Client(server) as client:
        result = await client.call_tool("get_event", IDS)
    assert result.is_error
    assert "feishu-calendar-mcp login" in text(result)
