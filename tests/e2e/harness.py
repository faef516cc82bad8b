"""A real MCP client talking to our server, whose upstream is the in-process sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client

from sandbox import Sandbox
from sandbox.requestlog import LoggedRequest
from server.app import build_server
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

# Monday 2026-11-23 09:00 in Asia/Shanghai: the sandbox's seed world is built around "now" (day 0 = today).
FIXED_NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC).timestamp()
# The conftest's machine_zone fixture under these machine zones: one of them the demo user's own.
IN_MACHINE_ZONES = pytest.mark.parametrize(
    "machine_zone", ("UTC", "Asia/Shanghai", "America/Los_Angeles"), indirect=True
)
# Every tool the demo tour calls, in order: a test of the tour checks each one ran.
DEMO_STEPS = (
    "get_current_context",
    "view_instances",
    "get_event",
    "get_room_freebusy",
    "create_event",
    "add_attendees",
    "list_attendees",
    "reply_event",
    "delete_event",
)
PRIMARY_PATH = "/open-apis/calendar/v4/calendars/primary"
ROOM_SEARCH = "/open-apis/vc/v1/rooms/search"  # which rooms need approval (tools/common/approval.py)
OVERLAP_CHECK_SUFFIX = "/events/instance_view"


class Harness:
    """Calls tools and shows what reached the sandbox for each call."""

    def __init__(self, sb: Sandbox, client: Client, token: str) -> None:
        self.sb = sb
        self.client = client
        self.token = token

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A successful tool call's structured result."""
        self.sb.log.clear()
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, f"{tool} failed: {result.content}"
        structured: dict[str, Any] | None = result.structured_content
        assert structured is not None, tool
        return structured

    async def fail(self, tool: str, **arguments: Any) -> str:
        """A failed tool call's message to the model."""
        self.sb.log.clear()
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
        return " ".join(getattr(block, "text", "") for block in result.content)

    def sent(self) -> LoggedRequest:
        """The one upstream request the last call made (the primary-calendar lookup, the overlap
        check after a create or move and the room directory's look-up for approval aside)."""
        requests = [r for r in self.sb.log if r.path != PRIMARY_PATH]
        if len(requests) > 1:
            requests = [r for r in requests if not r.path.endswith(OVERLAP_CHECK_SUFFIX) and r.path != ROOM_SEARCH]
        assert len(requests) == 1, [(r.method, r.path) for r in requests]
        request = requests[0]
        assert request.headers["authorization"] == "Bearer " + self.sb.mask_token(self.token)
        return request


@asynccontextmanager
async def connected(sb: Sandbox, token: str | None = None) -> AsyncIterator[Harness]:
    token = token or sb.demo_token
    # The sandbox's clock is the server's too (one clock): the tools' "today" is the world's.
    server = build_server(
        all_tools_settings(), StaticToken(token, identity="e2e"), transport=sb.transport(), clock=sb.clock
    )
    async with Client(server) as client:
        yield Harness(sb, client, token)
