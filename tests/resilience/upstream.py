"""A scripted Feishu for resilience tests: each request takes the next step (a reply or an exception)."""

from __future__ import annotations

from typing import Any

import httpx2
from mcp.server import MCPServer

from server.app import build_server
from server.clock import VirtualClock
from server.feishu_client import FeishuClient
from server.retry import RetryPolicy
from server.state import AppState
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

Step = httpx2.Response | Exception


def reply(
    code: int = 0,
    data: dict[str, Any] | None = None,
    *,
    status: int | None = None,
    msg: str = "",
    headers: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
) -> httpx2.Response:
    """A Feishu envelope; the HTTP status defaults to 200 for success and 400 otherwise."""
    body: dict[str, Any] = {"code": code, "msg": msg or ("success" if code == 0 else "failed"), "data": data or {}}
    if error is not None:
        body["error"] = error
    return httpx2.Response(status or (200 if code == 0 else 400), json=body, headers=headers)


class Upstream:
    """Answers requests with scripted steps in order, then with ``default``; keeps every request.

    Overlap checks (instance_view GETs issued after a create or a move) get an empty agenda
    without using a step, so scripts describe only the operation under test.
    """

    def __init__(self, *steps: Step, default: Step | None = None) -> None:
        self.steps = list(steps)
        self.default = default if default is not None else reply(0, {})
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET" and request.url.path.endswith("/events/instance_view"):
            return reply(0, {"items": []})
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else self.default
        if isinstance(step, Exception):
            raise step
        return step

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)


def client_for(upstream: Upstream, clock: VirtualClock, **policy: Any) -> FeishuClient:
    """A FeishuClient on the scripted upstream (close its ``http`` when done)."""
    http = httpx2.AsyncClient(base_url="https://open.feishu.cn", transport=upstream.transport())
    return FeishuClient(http, StaticToken("u-test"), RetryPolicy(**policy), clock)


def server_for(upstream: Upstream, clock: VirtualClock, **settings: Any) -> MCPServer[AppState]:
    """The full MCP server (all toolsets) on the scripted upstream, with a virtual clock."""
    return build_server(
        all_tools_settings(**settings), StaticToken("u-test"), transport=upstream.transport(), clock=clock
    )


def text(result: Any) -> str:
    """The text of a tool result's first content block."""
    return str(result.content[0].text)
