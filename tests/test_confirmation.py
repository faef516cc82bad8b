"""Destructive tools ask the user first where the client can ask; the setting decides elsewhere."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from server.app import build_server
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio

DESTRUCTIVE: dict[str, dict[str, Any]] = {
    "delete_event": {"event_id": "e_0"},
    "remove_attendees": {"event_id": "e_0", "attendee_ids": ["user_1"]},
    "unbind_meeting_chat": {"event_id": "e_0", "meeting_chat_id": "oc_1"},
    "delete_exchange_binding": {"exchange_binding_id": "ZXhj"},
}


def recording_server(**settings: Any) -> tuple[Any, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path.endswith("/primary"):
            return httpx2.Response(200, json={"code": 0, "data": {"calendars": [{"calendar": {"calendar_id": "c"}}]}})
        return httpx2.Response(200, json={"code": 0, "msg": "ok", "data": {}})

    server = build_server(all_tools_settings(**settings), StaticToken("u-t"), transport=httpx2.MockTransport(upstream))
    return server, seen


def answering(action: str, confirm: bool, asked: list[str]) -> Any:
    async def callback(_: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    return callback


@pytest.mark.parametrize("tool", DESTRUCTIVE)
async def test_user_confirms_then_request_is_sent(tool: str) -> None:
    server, seen = recording_server()
    asked: list[str] = []
    async with Client(server, elicitation_callback=answering("accept", True, asked)) as client:
        result = await client.call_tool(tool, DESTRUCTIVE[tool])
    assert not result.is_error, result.content
    assert len(asked) == 1 and "?" in asked[0]
    assert [r.method for r in seen if not r.url.path.endswith("/primary")] in (["DELETE"], ["POST"])


@pytest.mark.parametrize(("action", "confirm"), [("decline", False), ("cancel", False), ("accept", False)])
async def test_declined_sends_nothing(action: str, confirm: bool) -> None:
    server, seen = recording_server()
    asked: list[str] = []
    async with Client(server, elicitation_callback=answering(action, confirm, asked)) as client:
        result = await client.call_tool("delete_event", {"event_id": "e_0"})
    assert result.is_error
    assert "nothing was sent to Feishu" in result.content[0].text  # type: ignore[union-attr]
    assert asked == ["Delete event e_0 from calendar primary? Attendees are notified."]
    assert seen == []


async def test_without_elicitation_the_setting_decides() -> None:
    server, seen = recording_server()
    async with Client(server) as client:
        assert not (await client.call_tool("delete_event", {"event_id": "e_0"})).is_error
    assert [r.method for r in seen] == ["POST", "DELETE"]  # resolve primary, then delete

    server, seen = recording_server(confirm_destructive="refuse")
    async with Client(server) as client:
        result = await client.call_tool("delete_event", {"event_id": "e_0"})
    assert result.is_error and "FEISHU_CONFIRM_DESTRUCTIVE" in result.content[0].text  # type: ignore[union-attr]
    assert seen == []


async def test_invalid_input_is_refused_before_asking() -> None:
    server, seen = recording_server()
    asked: list[str] = []
    async with Client(server, elicitation_callback=answering("accept", True, asked)) as client:
        result = await client.call_tool("delete_event", {"event_id": "../x"})
    assert result.is_error and asked == [] and seen == []
