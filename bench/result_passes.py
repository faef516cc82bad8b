"""What turning a tool's result into its stdio line costs: the SDK's passes against one serialisation.

    python -m bench.result_passes [--events N] [--runs N]

A page of N events (the sandbox's 1,000-event calendar by default) is shaped by list_events'
own ``respond`` and ``wire_form``; then, in one process, CPU time per page of:
- the SDK's way: ``CallToolResult`` with the text, the runner's ``_dump_result``, the
  per-version surface check and dump (``serialize_server_result``), and the stdio
  transport's ``model_dump_json`` of the response;
- ours (server/results.py): one ``to_json`` of the object, the same SDK steps run on the
  empty placeholder, and the line assembled around the JSON (``encode_line``).
Both lines are checked to be the same bytes before anything is timed.

Then the same over stateless streamable HTTP, the body of the POST's answer:
- the SDK's way: its POST handler's ``model_dump(mode="json")`` of the response, then ``json.dumps``;
- ours (server/http_results.py): the handler's same two steps on the empty placeholder, and the
  placeholder's body filled with the result's JSON (``filled``).
Both bodies are checked to be the same JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import pydantic_core
from mcp.server.runner import _dump_result
from mcp.types import CallToolResult, JSONRPCResponse, TextContent
from mcp_types.methods import serialize_server_result

from server.http_results import filled
from server.registry import wire_form
from server.results import Prebuilt, ResultSlot, encode_line

VERSION = "2025-11-25"


def page(events: int) -> dict[str, Any]:
    """list_events' result for a page of ``events`` events, as the tool sends it."""
    from bench.upstream import PAGE_CALENDAR_ID, list_answers
    from tools import OPERATIONS

    bodies, _ = list_answers(events)
    op = next(op for op in OPERATIONS if op.name == "list_events")
    return wire_form(op.respond(None, pydantic_core.from_json(bodies[PAGE_CALENDAR_ID])["data"]))


def sdk_way(data: dict[str, Any]) -> bytes:
    text = pydantic_core.to_json(data).decode()
    result = CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
    shaped = serialize_server_result("tools/call", VERSION, _dump_result(result))
    response = JSONRPCResponse(jsonrpc="2.0", id=1, result=shaped)
    # What the SDK's stdio writer sends: the dump, then a newline.
    return response.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"


def ours(data: dict[str, Any]) -> bytes:
    prebuilt = Prebuilt(data, pydantic_core.to_json(data))
    placeholder = CallToolResult(content=[TextContent(type="text", text="")], structured_content={})
    shaped = serialize_server_result("tools/call", VERSION, _dump_result(placeholder))
    shaped["content"][0]["text"] = prebuilt.text
    shaped["structuredContent"] = prebuilt
    return encode_line(JSONRPCResponse(jsonrpc="2.0", id=1, result=shaped))


def _http_body(response: JSONRPCResponse) -> bytes:
    """What the SDK's stateless POST handler sends for ``response`` (``_write``)."""
    body = response.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(body, separators=(",", ":")).encode()


def sdk_http(data: dict[str, Any]) -> bytes:
    text = pydantic_core.to_json(data).decode()
    result = CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
    shaped = serialize_server_result("tools/call", VERSION, _dump_result(result))
    return _http_body(JSONRPCResponse(jsonrpc="2.0", id=1, result=shaped))


def ours_http(data: dict[str, Any]) -> bytes:
    slot = ResultSlot()
    slot.put(1, Prebuilt(data, pydantic_core.to_json(data)))
    placeholder = CallToolResult(content=[TextContent(type="text", text="")], structured_content={})
    shaped = serialize_server_result("tools/call", VERSION, _dump_result(placeholder))
    body = filled(_http_body(JSONRPCResponse(jsonrpc="2.0", id=1, result=shaped)), slot)
    assert body is not None
    return body


def cpu_ms(work: Callable[[], object], runs: int) -> float:
    work()
    started = time.process_time()
    for _ in range(runs):
        work()
    return (time.process_time() - started) / runs * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.result_passes", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    data = page(args.events)
    assert sdk_way(data) == ours(data), "the two lines differ"
    print(f"load average {os.getloadavg()}; a page of {args.events} events, {len(ours(data))} bytes on the wire")
    for _ in range(3):  # interleaved, so a change of load hits both
        theirs, mine = cpu_ms(lambda: sdk_way(data), args.runs), cpu_ms(lambda: ours(data), args.runs)
        print(f"stdio: SDK's way {theirs:7.3f} ms   ours {mine:7.3f} ms")
    assert json.loads(sdk_http(data)) == json.loads(ours_http(data)), "the two HTTP bodies differ"
    sizes = len(sdk_http(data)), len(ours_http(data))
    print(f"HTTP bodies: SDK's way {sizes[0]} bytes, ours {sizes[1]} bytes")
    for _ in range(3):
        theirs, mine = cpu_ms(lambda: sdk_http(data), args.runs), cpu_ms(lambda: ours_http(data), args.runs)
        print(f"HTTP:  SDK's way {theirs:7.3f} ms   ours {mine:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
