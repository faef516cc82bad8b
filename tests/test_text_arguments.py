"""A string that happens to be JSON stays a string in a text field; list fields still take JSON text."""

from __future__ import annotations

import pytest
from mcp import Client

from sandbox import LI_LEI_OPEN_ID, Sandbox
from server.app import build_server
from server.static_token import StaticToken
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio


async def test_json_looking_text_is_kept_and_json_lists_are_still_decoded() -> None:
    sb = Sandbox(seed=True)
    server = build_server(all_tools_settings(), StaticToken(sb.demo_token), transport=sb.transport())
    async with Client(server) as client:
        times = {"start": "2026-12-03T10:00", "end": "2026-12-03T11:00"}
        created = await client.call_tool("create_event", {"summary": "[1, 2]", "description": '{"agenda": 3}', **times})
        assert not created.is_error, created.content
        assert created.structured_content is not None
        event = created.structured_content["event"]
        assert event["external_content"] == {"summary": "[1, 2]", "description": '{"agenda": 3}'}
        # Clients that send a list as a JSON string keep working (the SDK's courtesy).
        added = await client.call_tool(
            "add_attendees",
            {"event_id": event["event_id"], "attendees": f'[{{"type": "user", "user_id": "{LI_LEI_OPEN_ID}"}}]'},
        )
        assert not added.is_error, added.content
