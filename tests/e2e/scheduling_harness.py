"""A real MCP client on our server on the sandbox, with one pinned clock, for the scheduling tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from mcp import Client

from sandbox import Sandbox
from sandbox.requestlog import LoggedRequest
from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

# Monday 2026-11-23 10:00 in Asia/Shanghai.
MONDAY_10 = 1795399200.0


class Session:
    """Tool calls through the MCP client, and what each call sent to the sandbox."""

    def __init__(self, sb: Sandbox, client: Client) -> None:
        self.sb = sb
        self.client = client
        self.calls = 0

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        self.sb.log.clear()
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, f"{tool} failed: {result.content}"
        structured: dict[str, Any] | None = result.structured_content
        assert structured is not None
        return structured

    async def fail(self, tool: str, **arguments: Any) -> str:
        self.sb.log.clear()
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
        return " ".join(getattr(block, "text", "") for block in result.content)

    def sent(self, path_part: str) -> list[LoggedRequest]:
        return [r for r in self.sb.log if path_part in r.path]


def pinned_sandbox(now: float = MONDAY_10) -> Sandbox:
    """The sandbox on a clock pinned to ``now``; the server shares it (see :func:`session`)."""
    return Sandbox(seed=True, clock=VirtualClock(now))


@asynccontextmanager
async def session(
    sb: Sandbox,
    elicitation_callback: Any = None,
    mode: Literal["auto", "legacy"] = "auto",
    scopes: Sequence[str] | None = None,
    **settings: Any,
) -> AsyncIterator[Session]:
    """Our server on ``sb`` as the demo user (with only ``scopes``, if given), through a real client."""
    token = sb.demo_token if scopes is None else sb.issue_user_token(sb.demo_user.open_id, scopes=scopes)
    server = build_server(
        all_tools_settings(**settings),
        StaticToken(token, identity="scheduling"),
        transport=sb.transport(),
        clock=sb.clock,
    )
    async with Client(server, mode=mode, elicitation_callback=elicitation_callback) as client:
        yield Session(sb, client)
