"""Results serialised once, pings answered by our stdio transport: the client sees what the SDK's way sent.

"The SDK's way" is the same server with the SDK's own stdio transport and without ``built_once``
(every result walked by the SDK's passes). Each transcript is compared line for line, as bytes.
"""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
import pydantic_core
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.types import CallToolResult, JSONRPCError, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from bench.upstream import PAGE_CALENDAR_ID, add_page_calendar
from sandbox import Sandbox
from server.app import build_server
from server.clock import VirtualClock
from server.http_results import ResultsWrittenOnce
from server.results import Prebuilt, built_once, encode_line, json_string_body, tool_result
from server.state import AppState
from server.static_token import StaticToken
from tests.e2e.harness import FIXED_NOW
from tests.helpers import all_tools_settings

ROOT = Path(__file__).resolve().parent.parent
# The sandbox server (with a calendar of 1,000 events) over stdio: ours, or the SDK's way.
SCRIPT = f"""
import sys, anyio
from bench.upstream import add_page_calendar
from sandbox import Sandbox
from server.app import build_server
from server.clock import VirtualClock
from server.results import built_once
from server.static_token import StaticToken
from server.stdio import run_stdio
from tests.helpers import all_tools_settings

sb = Sandbox(seed=True, clock=VirtualClock({FIXED_NOW!r}))
add_page_calendar(sb)
token = StaticToken(sb.demo_token, identity="t")
server = build_server(all_tools_settings(), token, transport=sb.transport(), clock=sb.clock)
if sys.argv[1] == "sdk":
    server.middleware.remove(built_once)
    anyio.run(server.run_stdio_async)
else:
    anyio.run(run_stdio, server)
"""
INIT_PARAMS = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _request(request_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": request_id, "method": method}
    return message if params is None else message | {"params": params}


def _call(request_id: Any, name: str, arguments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _request(request_id, "tools/call", {"name": name, "arguments": arguments, **extra})


# (what is sent, the id of the answer to wait for: None when no answer comes)
HANDSHAKE_ERA: list[tuple[dict[str, Any] | bytes, Any]] = [
    (_request(0, "ping"), 0),  # the first request: left to the SDK, it opens the handshake era
    (_request(1, "initialize", INIT_PARAMS), 1),
    ({"jsonrpc": "2.0", "method": "notifications/initialized"}, None),
    (_request(2, "ping", {}), 2),
    (_request("three", "ping"), "three"),
    (_request(4, "ping", {"_meta": {"progressToken": 4}}), 4),
    (_request(5, "ping", {"_meta": MODERN_META}), 5),  # an enveloped request on this era: refused
    (_request(6, "ping", {"unexpected": True}), 6),
    (b'{"jsonrpc": "2.0", "id": 7, "method": "ping", "params": "x"}\n', None),  # not JSON-RPC: dropped
    (b"{not json\n", None),
    (_call(8, "get_current_context", {}), 8),
    (_call(9, "list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}), 9),
    (_call(10, "list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 50, "start_time": "x"}), 10),
    (_call(11, "get_event", {"calendar_id": PAGE_CALENDAR_ID, "event_id": "no_such_event_0"}), 11),
    (_call(12, "no_such_tool", {}), 12),
    (_call(13, "get_current_context", {}, _meta=MODERN_META), 13),
    (_request(14, "no/such/method"), 14),
    (_request(15, "tools/list"), 15),
    (_request(16, "ping"), 16),
]
MODERN_ERA: list[tuple[dict[str, Any] | bytes, Any]] = [
    (_call(1, "list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}, _meta=MODERN_META), 1),
    (_request(2, "ping"), 2),  # the 2026-07-28 era has no ping: the SDK's answer, whatever it is
    (_request(3, "ping", {"_meta": MODERN_META}), 3),
    (_call(4, "get_current_context", {}, _meta=MODERN_META), 4),
]


def _transcript(way: str, steps: list[tuple[dict[str, Any] | bytes, Any]]) -> list[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")} | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, way],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    lines: list[bytes] = []
    try:
        for message, answer_id in steps:
            process.stdin.write(message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n")
            process.stdin.flush()
            while answer_id is not None:
                line = process.stdout.readline()
                assert line, f"{way}: no answer to {answer_id!r}"
                lines.append(line)
                if json.loads(line).get("id") == answer_id:
                    break
        process.stdin.close()
        lines += process.stdout.read().splitlines(keepends=True)  # anything still on its way
        assert process.wait(timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
    return lines


@pytest.mark.parametrize("steps", [HANDSHAKE_ERA, MODERN_ERA], ids=["handshake-era", "2026-era"])
def test_stdio_sends_exactly_what_the_sdk_way_sends(steps: list[tuple[dict[str, Any] | bytes, Any]]) -> None:
    ours, theirs = _transcript("ours", steps), _transcript("sdk", steps)
    assert [json.loads(line) for line in ours] == [json.loads(line) for line in theirs]
    assert ours == theirs  # byte for byte, the 1,000-event page too
    answers = {json.loads(line).get("id"): json.loads(line) for line in ours}
    if steps is HANDSHAKE_ERA:
        assert all(answers[i] == {"jsonrpc": "2.0", "id": i, "result": {}} for i in (0, 2, "three", 4, 6, 16))
        assert "error" in answers[5] and "error" in answers[13] and "error" in answers[14]
        page = answers[9]["result"]
        assert len(page["structuredContent"]["items"]) == 1000 and page["isError"] is False
        assert json.loads(page["content"][0]["text"]) == page["structuredContent"]
        assert answers[10]["result"]["isError"] and answers[11]["result"]["isError"]
    else:
        assert len(answers[1]["result"]["structuredContent"]["items"]) == 1000
        assert "error" in answers[2]  # no ping in this era: not answered with an empty result


@pytest.fixture
def sandbox() -> Sandbox:
    sb = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))
    add_page_calendar(sb)
    return sb


def _server(sb: Sandbox, *, sdk_way: bool) -> MCPServer[AppState]:
    server = build_server(
        all_tools_settings(), StaticToken(sb.demo_token, identity="t"), transport=sb.transport(), clock=sb.clock
    )
    if sdk_way:
        server.middleware.remove(built_once)
    return server


@pytest.mark.anyio
async def test_streamable_http_sends_exactly_what_the_sdk_way_sends(sandbox: Sandbox) -> None:
    """Stateless streamable HTTP, the raw 2026 POST and the SDK's client in both eras."""
    bodies: list[bytes] = []
    results: list[CallToolResult] = []
    arguments = {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}
    for sdk_way in (False, True):
        server = _server(sandbox, sdk_way=sdk_way)
        sdk_app = server.streamable_http_app(stateless_http=True)
        app = sdk_app if sdk_way else ResultsWrittenOnce(sdk_app)
        async with (
            server.session_manager.run(),
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http,
        ):
            message = _call(1, "list_events", arguments, _meta=MODERN_META)
            headers = {
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2026-07-28",
                "mcp-method": "tools/call",
                "mcp-name": "list_events",
            }
            response = await http.post("/mcp", json=message, headers=headers)
            assert response.status_code == 200
            bodies.append(response.content)
            for mode in ("auto", "legacy"):
                async with Client(
                    streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http), mode=mode
                ) as c:
                    # 300 events: the SDK's client refuses a server-sent event over 1 MB (the 2025 era's form).
                    results.append(await c.call_tool("list_events", {**arguments, "page_size": 300}))
                    results.append(await c.call_tool("get_event", {"event_id": "e", "start_time": "x"}))
    # The same answer; ours is UTF-8 where the SDK's json.dumps escapes every non-ASCII character.
    assert json.loads(bodies[0]) == json.loads(bodies[1]) and len(bodies[0]) <= len(bodies[1])
    assert len(json.loads(bodies[0])["result"]["structuredContent"]["items"]) == 1000
    assert results[:4] == results[4:]
    assert not results[0].is_error and results[1].is_error


@pytest.mark.anyio
async def test_in_memory_client_sees_the_same_results(sandbox: Sandbox) -> None:
    seen = []
    for sdk_way in (False, True):
        async with Client(_server(sandbox, sdk_way=sdk_way)) as client:
            page = await client.call_tool("list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000})
            seen.append(page)
    assert seen[0] == seen[1]
    assert seen[0].structured_content is not None and len(seen[0].structured_content["items"]) == 1000


def test_a_tool_run_outside_the_middleware_returns_its_whole_result() -> None:
    data = {"items": [{"summary": "周会", "n": 1, "none": None}], "has_more": False}
    result = tool_result(data)
    assert result.structured_content == data
    assert result.content[0].text == '{"items":[{"summary":"周会","n":1,"none":null}],"has_more":false}'  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_middleware_refuses_a_result_it_does_not_recognise() -> None:
    """A changed SDK must fail loudly, never send the empty placeholder."""

    async def shaped_otherwise(_: Any) -> dict[str, Any]:
        tool_result({"a": 1})
        return {"content": [], "structuredContent": {}, "isError": False}

    ctx: Any = type("Ctx", (), {"method": "tools/call"})()
    with pytest.raises(RuntimeError, match="unexpected"):
        await built_once(ctx, shaped_otherwise)


@pytest.mark.anyio
async def test_a_context_captured_during_the_call_does_not_keep_its_result() -> None:
    """asyncio timer handles (aiohttp's read timer among them) keep a copy of the context they were
    armed in until their deadline, cancelled or not. Such a copy must not keep the tool's result
    alive: it kept every 1,000-event page for the read timeout, ~6.6 MiB of RSS per page in a row."""
    captured: list[contextvars.Context] = []
    big = {"items": [{"summary": "x" * 1000, "n": n} for n in range(100)]}

    async def tool_call(_: Any) -> dict[str, Any]:
        captured.append(contextvars.copy_context())  # what loop.call_later(...) does
        tool_result(big)
        return {"content": [{"type": "text", "text": ""}], "structuredContent": {}, "isError": False}

    ctx: Any = type("Ctx", (), {"method": "tools/call", "request": None, "request_id": 1})()
    sent = await built_once(ctx, tool_call)
    assert sent["structuredContent"]["items"][0]["n"] == 0  # type: ignore[index]
    kept = [value for var, value in captured[0].items() if var.name == "feishu_calendar_prebuilt"]
    assert kept == [[]]  # the list the snapshot shares was emptied: nothing of the result is reachable


def test_encoding_is_the_sdks_byte_for_byte() -> None:
    data = {"items": [{"summary": '周会 "quoted" \\ \u2028', "n": 1.5, "big": 10**20, "none": None}], "ok": True}
    prebuilt = Prebuilt(data, __import__("pydantic_core").to_json(data))
    result = {"content": [{"text": prebuilt.text, "type": "text"}], "isError": False, "structuredContent": prebuilt}
    messages: list[JSONRPCMessage] = [
        JSONRPCResponse(jsonrpc="2.0", id=7, result=result),
        JSONRPCResponse(jsonrpc="2.0", id="seven", result={**result, "_meta": {"k": [1, None]}}),
        JSONRPCResponse(jsonrpc="2.0", id=1, result={}),
        JSONRPCError(jsonrpc="2.0", id=1, error={"code": -32601, "message": "Method not found"}),
        JSONRPCRequest(jsonrpc="2.0", id=3, method="elicitation/create", params={"message": "x"}),
        JSONRPCNotification(jsonrpc="2.0", method="notifications/progress"),
    ]
    for message in messages:
        assert encode_line(message) == message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
    plain = JSONRPCResponse(jsonrpc="2.0", id=7, result={**result, "structuredContent": dict(data)})
    assert encode_line(messages[0]) == encode_line(plain)


def test_prebuilt_is_a_plain_dict_to_everyone_else() -> None:
    data = {"a": [1, {"b": None}]}
    prebuilt = Prebuilt(data, b'{"a":[1,{"b":null}]}')
    assert prebuilt == data and json.dumps(prebuilt) == json.dumps(data)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_the_text_block_is_escaped_as_to_json_escapes_it(value: Any) -> None:
    """The text block is written from the result's bytes (two replaces), byte for byte what encoding
    the decoded text would give: quotes, backslashes, control characters, U+2028, emoji."""
    encoded = pydantic_core.to_json(value)
    assert json_string_body(encoded) == pydantic_core.to_json(encoded.decode())[1:-1]
