"""Tool results over stateless streamable HTTP, written once (server/http_results.py).

What the client receives must be the SDK's own answer, key for key, in both of the SDK's answer
forms (one JSON body, or an SSE stream whose last event is the response); a body the layer does
not recognise must become an error, never the empty placeholder.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx2
import pytest
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from starlette.types import Message, Receive, Scope, Send

from bench.upstream import PAGE_CALENDAR_ID, add_page_calendar
from sandbox import Sandbox
from server.app import build_server
from server.clock import VirtualClock
from server.http_results import ResultsWrittenOnce
from server.results import SLOT, Prebuilt, ResultSlot, built_once, tool_result
from server.state import AppState
from server.static_token import StaticToken
from tests.e2e.harness import FIXED_NOW
from tests.helpers import all_tools_settings

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
HEADERS = {
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
}
NOISY = {"items": [{"summary": "周会 standup", "n": n, "none": None} for n in range(3)], "has_more": False}


def _server(sb: Sandbox, *, sdk_way: bool) -> MCPServer[AppState]:
    server = build_server(
        all_tools_settings(), StaticToken(sb.demo_token, identity="t"), transport=sb.transport(), clock=sb.clock
    )

    @server.tool(name="noisy")
    async def noisy(ctx: Context) -> CallToolResult:
        """Says something before it answers, so the SDK answers over SSE."""
        await ctx.report_progress(1, 2)
        return tool_result(NOISY)

    if sdk_way:
        server.middleware.remove(built_once)
    return server


def _call(name: str, arguments: dict[str, Any], request_id: Any = 1) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments, "_meta": MODERN_META}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


async def _post(sb: Sandbox, message: dict[str, Any], *, sdk_way: bool, json_response: bool) -> httpx2.Response:
    server = _server(sb, sdk_way=sdk_way)
    sdk_app = server.streamable_http_app(stateless_http=True, json_response=json_response)
    app = sdk_app if sdk_way else ResultsWrittenOnce(sdk_app)
    transport = httpx2.ASGITransport(app=app)
    base_url = "http://127.0.0.1:8000"  # a host the SDK's DNS-rebinding guard accepts
    async with server.session_manager.run(), httpx2.AsyncClient(transport=transport, base_url=base_url) as c:
        headers = HEADERS | {"mcp-name": message["params"]["name"]}
        return await c.post("/mcp", json=message, headers=headers)


def _events(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")]


@pytest.fixture
def sb() -> Sandbox:
    sandbox = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))
    add_page_calendar(sandbox)
    return sandbox


@pytest.mark.anyio
@pytest.mark.parametrize("json_response", [True, False], ids=["json-response", "sse-allowed"])
@pytest.mark.parametrize(
    "call",
    [
        _call("list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}),
        _call("get_current_context", {}, request_id="a-string-id"),
        _call("get_event", {"event_id": "e", "start_time": "x"}),  # refused: an error result, left to the SDK
        _call("no_such_tool", {}),
        _call("noisy", {}),
    ],
    ids=["page", "string-id", "refused", "unknown-tool", "non-ascii"],
)
async def test_a_json_answer_is_the_sdks_answer(sb: Sandbox, json_response: bool, call: dict[str, Any]) -> None:
    ours = await _post(sb, call, sdk_way=False, json_response=json_response)
    theirs = await _post(sb, call, sdk_way=True, json_response=json_response)
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/json"
    assert int(ours.headers["content-length"]) == len(ours.content)
    assert ours.json() == theirs.json()
    # UTF-8 where the SDK's json.dumps escapes every non-ASCII character: never larger.
    assert len(ours.content) <= len(theirs.content)
    if call["params"]["name"] == "noisy":  # written by this layer, not by the SDK's json.dumps
        assert "周会".encode() in ours.content and "周会".encode() not in theirs.content


@pytest.mark.anyio
async def test_the_last_event_of_an_sse_answer_carries_the_result(sb: Sandbox) -> None:
    call = _call("noisy", {})
    call["params"]["_meta"] |= {"progressToken": "p"}
    ours = await _post(sb, call, sdk_way=False, json_response=False)
    theirs = await _post(sb, call, sdk_way=True, json_response=False)
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "text/event-stream"
    events = _events(ours.text)
    assert events == _events(theirs.text)
    assert "周会".encode() in ours.content and "周会".encode() not in theirs.content  # written by this layer
    assert events[0]["method"] == "notifications/progress" and events[-1]["id"] == 1
    result = events[-1]["result"]
    assert result["structuredContent"] == NOISY and json.loads(result["content"][0]["text"]) == NOISY


def _fake_app(*, frames: list[Message], fill: bool = True) -> Any:
    """An inner app that leaves a result in the request's slot, then writes ``frames``."""
    seen: list[ResultSlot | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        slot = scope.get(SLOT)
        seen.append(slot)
        if fill and isinstance(slot, ResultSlot):
            slot.put(7, Prebuilt({"a": 1}, b'{"a":1}'))
        for frame in frames:
            await send(frame)

    app.seen = seen  # type: ignore[attr-defined]
    return app


PLACEHOLDER = b'{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":""}],"structuredContent":{}}}'
JSON_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(PLACEHOLDER)).encode())],
}


async def _through(app: Any, headers: dict[str, str]) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=ResultsWrittenOnce(app))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.post("/mcp", content=b"{}", headers=headers)


@pytest.mark.anyio
async def test_a_body_in_pieces_is_filled_once_it_is_whole() -> None:
    pieces = [PLACEHOLDER[:10], PLACEHOLDER[10:40], PLACEHOLDER[40:]]
    frames = [JSON_START] + [
        {"type": "http.response.body", "body": piece, "more_body": i < 2} for i, piece in enumerate(pieces)
    ]
    answer = await _through(_fake_app(frames=frames), HEADERS)
    expected = {"content": [{"type": "text", "text": '{"a":1}'}], "structuredContent": {"a": 1}}
    assert answer.json() == {"jsonrpc": "2.0", "id": 7, "result": expected}
    assert int(answer.headers["content-length"]) == len(answer.content)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        PLACEHOLDER.replace(b'"id":7', b'"id":8'),  # another request's answer
        PLACEHOLDER.replace(b'"structuredContent":{}', b'"structuredContent":{"b":2}'),
        PLACEHOLDER.replace(b'"text":""', b'"text":"x"'),
        b'{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"m"}}',
    ],
    ids=["not-json", "other-id", "filled-already", "text-already", "an-error"],
)
async def test_an_unrecognised_body_becomes_an_error_never_an_empty_result(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    frames: list[Message] = [JSON_START, {"type": "http.response.body", "body": body}]
    with caplog.at_level(logging.ERROR, logger="feishu_calendar_mcp.http"):
        answer = await _through(_fake_app(frames=frames), HEADERS)
    assert answer.json()["error"]["code"] == -32603 and answer.json()["id"] == 7
    assert "could not be put" in caplog.text
    sse: list[Message] = [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]},
        {"type": "http.response.body", "body": b"event: message\r\ndata: " + body + b"\r\n\r\n"},
    ]
    assert _events((await _through(_fake_app(frames=sse), HEADERS)).text)[-1]["error"]["code"] == -32603


@pytest.mark.anyio
@pytest.mark.parametrize("version", [None, "2025-11-25", "2025-03-26"], ids=["no-header", "2025-11", "2025-03"])
async def test_a_handshake_era_request_gets_no_slot(version: str | None) -> None:
    """Its answer may leave on another request's stream: the result is put in by built_once instead."""
    frames: list[Message] = [JSON_START, {"type": "http.response.body", "body": PLACEHOLDER}]
    app = _fake_app(frames=frames)
    headers = {k: v for k, v in HEADERS.items() if k != "mcp-protocol-version"}
    answer = await _through(app, headers if version is None else headers | {"mcp-protocol-version": version})
    assert app.seen == [None] and answer.content == PLACEHOLDER


@pytest.mark.anyio
async def test_nothing_of_the_result_is_kept_once_it_is_written() -> None:
    frames: list[Message] = [JSON_START, {"type": "http.response.body", "body": PLACEHOLDER}]
    app = _fake_app(frames=frames)
    await _through(app, HEADERS)
    assert isinstance(app.seen[0], ResultSlot) and app.seen[0].prebuilt is None


def test_a_slot_takes_one_result_only() -> None:
    slot = ResultSlot()
    assert slot.put(1, Prebuilt({}, b"{}")) and not slot.put(1, Prebuilt({}, b"{}"))
