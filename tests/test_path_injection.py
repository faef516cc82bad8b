"""No id can change the route: hostile ids are refused, legal odd ones are percent-encoded."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client

from server.app import build_server
from server.paths import UnsafePathParameter, fill_route
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tools import OPERATIONS
from tools.spec import route_params

pytestmark = pytest.mark.anyio

HOSTILE_IDS = ["a/../b", "..", ".", "x%2F..", "x?y=1", "x#y", "a\\b", "a b", "a\nb", "", "%2e%2e", "a/b"]
BASE_ARGS: dict[str, dict[str, Any]] = {
    "create_event": {"start": "2026-11-23", "end": "2026-11-23"},
    "reply_event": {"rsvp_status": "accept"},
    "list_recurring_instances": {"start": "2026-11-01", "end": "2026-11-30"},
    "view_instances": {"start": "2026-11-01", "end": "2026-11-30"},
    "unbind_meeting_chat": {"meeting_chat_id": "oc_1"},
    "add_attendees": {"attendees": [{"type": "user", "user_id": "ou_1"}]},
    "remove_attendees": {"attendee_ids": ["user_1"]},
    "list_chat_members": {"attendee_id": "chat_1"},
}
LEGAL_IDS = {"calendar_id": "cal@x", "event_id": "evt_0", "attendee_id": "chat_1", "exchange_binding_id": "ZXhj"}
# calendar_id also takes a calendar's name (looked up in the calendar list, never put in a route):
# a space is fine there, the characters that could change a route are not.
NAME_OK = {"calendar_id": {"a b"}}
PATH_CASES = [(op.name, param) for op in OPERATIONS for param in route_params(op.route)]


@pytest.mark.parametrize(("tool", "param"), PATH_CASES)
async def test_hostile_ids_never_reach_a_route(tool: str, param: str) -> None:
    seen: list[httpx2.Request] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"code": 0, "msg": "ok", "data": {}})

    server = build_server(all_tools_settings(), StaticToken("u-test"), transport=httpx2.MockTransport(upstream))
    async with Client(server) as client:
        for bad in (i for i in HOSTILE_IDS if i not in NAME_OK.get(param, set())):
            ids = {p: LEGAL_IDS[p] for p in route_params(next(o.route for o in OPERATIONS if o.name == tool))}
            ids[param] = bad
            result = await client.call_tool(tool, {**BASE_ARGS.get(tool, {}), **ids})
            assert result.is_error, f"{tool} accepted {param}={bad!r}"
            assert param in result.content[0].text  # type: ignore[union-attr]
    assert seen == []


async def test_calendar_ids_with_at_sign_work_and_are_encoded() -> None:
    seen: list[httpx2.Request] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"code": 0, "msg": "ok", "data": {"event": {"event_id": "e_0"}}})

    server = build_server(all_tools_settings(), StaticToken("u-test"), transport=httpx2.MockTransport(upstream))
    async with Client(server) as client:
        cal = "feishu.cn_abc@group.calendar.feishu.cn"
        result = await client.call_tool("get_event", {"calendar_id": cal, "event_id": "e+1_0"})
    assert not result.is_error
    assert seen[0].url.raw_path.decode() == f"/open-apis/calendar/v4/calendars/{cal}/events/e%2B1_0"


def test_fill_route_refuses_what_validation_would_refuse() -> None:
    route = "/x/{calendar_id}/events/{event_id}"
    assert fill_route(route, {"calendar_id": "a@b", "event_id": "é 1".replace(" ", "_")}) == "/x/a@b/events/%C3%A9_1"
    for bad in HOSTILE_IDS:
        with pytest.raises(UnsafePathParameter):
            fill_route(route, {"calendar_id": "ok", "event_id": bad})
    with pytest.raises(UnsafePathParameter):
        fill_route(route, {"calendar_id": "ok"})
