"""Stdio on the event loop's pipes: framing, EOF, a clean stdout, and the SDK's threads as the fallback."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from server.stdio import PIPE_SIZE, loop_pipes_usable

ROOT = Path(__file__).resolve().parent.parent
# A small server run by the real entry point (`run_stdio`), whose tools write where they must not.
SCRIPT = """
import os, sys, threading, anyio
from mcp.server import MCPServer
import server.stdio as stdio

mcp = MCPServer("probe")

@mcp.tool()
async def events(n: int) -> dict[str, list[dict[str, str]]]:
    print("stray print from a tool")
    os.system("echo stray output of a child process")
    return {"items": [{"event_id": f"ev_{i:04d}", "summary": "周会 weekly sync " * 4} for i in range(n)]}

@mcp.tool()
async def wait(seconds: float) -> str:
    await anyio.sleep(seconds)
    return "waited"

@mcp.tool()
async def threads() -> str:
    return ",".join(sorted(t.name for t in threading.enumerate()))

print("on the loop's pipes" if stdio.loop_pipes_usable() else "threaded fallback", file=sys.stderr, flush=True)
anyio.run(stdio.run_stdio, mcp)
print("stdio restored after serving", flush=True)
"""
INIT: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def _call(request_id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


def _spawn(stdin: int | IO[bytes] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")} | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )


def _answer(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert process.stdout is not None
    message: dict[str, Any] = json.loads(process.stdout.readline())
    return message


def test_loop_pipes_serve_partial_lines_large_results_and_close_on_eof() -> None:
    process = _spawn()
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        # One request split across writes, mid-line and mid-character (UTF-8 of 演 is 3 bytes).
        first = _line({**INIT, "params": {**INIT["params"], "clientInfo": {"name": "演示", "version": "0"}}})
        cut = first.index("演".encode()) + 1
        for piece in (first[:10], first[10:cut], first[cut:]):
            process.stdin.write(piece)
            process.stdin.flush()
            time.sleep(0.05)
        assert _answer(process)["result"]["serverInfo"]["name"] == "probe"
        if hasattr(fcntl, "F_GETPIPE_SZ"):  # Linux: the answers' pipe was widened for large results
            allowed = int(Path("/proc/sys/fs/pipe-max-size").read_text())
            assert fcntl.fcntl(process.stdout.fileno(), fcntl.F_GETPIPE_SZ) == min(PIPE_SIZE, allowed)
        # Two messages in one write, then a result of 1,000 events (far larger than a pipe's buffer).
        process.stdin.write(b"{not json\n" + _line(INITIALIZED) + _line(_call(2, "events", {"n": 1000})))
        process.stdin.flush()
        big = _answer(process)
        while big.get("id") != 2:  # the unparseable line may be answered (with no id), the session goes on
            big = _answer(process)
        assert big["id"] == 2 and not big["result"].get("isError")
        items = big["result"]["structuredContent"]["items"]
        assert len(items) == 1000 and items[999]["event_id"] == "ev_0999"
        assert json.loads(big["result"]["content"][0]["text"])["items"] == items
        # The tools ran on the loop: no worker thread of anyio's was started to read or write.
        process.stdin.write(_line(_call(3, "threads", {})))
        process.stdin.flush()
        names = _answer(process)["result"]["structuredContent"]["result"]
        assert names == "MainThread"
        process.stdin.close()  # EOF: the session ends and the process exits by itself
        assert process.wait(timeout=30) == 0
        rest = process.stdout.read()
        stderr = process.stderr.read().decode()
    finally:
        if process.returncode is None:
            process.kill()
        process.wait()
        for end in (process.stdin, process.stdout, process.stderr):
            end.close()
    # Stdout carried only the protocol: the tool's print and the child's echo went to stderr.
    assert rest == b"stdio restored after serving\n"
    assert "on the loop's pipes" in stderr
    assert stderr.count("stray print from a tool") == 1 and "stray output of a child process" in stderr


def _ping(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "ping", "params": {}}


def test_pings_are_answered_beside_calls_in_flight_and_cancellation_still_reaches_the_sdk() -> None:
    process = _spawn()
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(_line(INIT) + _line(INITIALIZED))
        process.stdin.flush()
        assert _answer(process)["id"] == 1
        # A call that takes long, a ping while it runs: the ping's answer comes first.
        process.stdin.write(_line(_call(2, "wait", {"seconds": 60})) + _line(_ping(3)))
        process.stdin.flush()
        assert _answer(process) == {"jsonrpc": "2.0", "id": 3, "result": {}}
        # The client cancels the call: the notification reaches the SDK, which stops it and never answers it.
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}
        process.stdin.write(_line(cancel) + _line(_ping(4)))
        process.stdin.flush()
        assert _answer(process) == {"jsonrpc": "2.0", "id": 4, "result": {}}
        # A large result, a ping and a small call in one write: each answered once, whole.
        process.stdin.write(
            _line(_call(5, "events", {"n": 1000})) + _line(_ping(6)) + _line(_call(7, "events", {"n": 1}))
        )
        process.stdin.flush()
        answers = [_answer(process) for _ in range(3)]
        by_id = {answer["id"]: answer for answer in answers}
        assert sorted(by_id) == [5, 6, 7]
        assert len(by_id[5]["result"]["structuredContent"]["items"]) == 1000 and by_id[6]["result"] == {}
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        rest = [json.loads(line) for line in process.stdout.read().splitlines() if line.startswith(b"{")]
    finally:
        if process.returncode is None:
            process.kill()
        process.wait()
        for end in (process.stdin, process.stdout, process.stderr):
            if end is not None:
                end.close()
    assert all(message.get("id") != 2 for message in rest)  # the cancelled call was never answered


def test_a_client_that_stops_reading_ends_nothing_but_its_answers() -> None:
    """The peer closed our stdout: answers (a ping's too) are dropped, the session ends cleanly at EOF."""
    process = _spawn()
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write(_line(INIT) + _line(INITIALIZED))
        process.stdin.flush()
        assert _answer(process)["id"] == 1
        process.stdout.close()
        process.stdin.write(_line(_ping(2)) + _line(_call(3, "events", {"n": 1000})) + _line(_ping(4)))
        process.stdin.close()
        process.wait(timeout=30)  # it ends at EOF (the probe's own last print then fails on the closed pipe)
        stderr = process.stderr.read().decode()
    finally:
        if process.returncode is None:
            process.kill()
        process.wait()
        process.stderr.close()
    assert "site-packages" not in stderr, stderr  # no traceback from the SDK's tasks or ours


def test_a_terminal_on_stdin_is_served_by_the_sdk_threads() -> None:
    primary, terminal = os.openpty()
    process = _spawn(terminal)
    assert process.stdout is not None and process.stderr is not None
    try:
        typed = _line(INIT) + b"{not json\n" + _line(INITIALIZED) + _line(_call(2, "events", {"n": 3}))
        os.write(primary, typed)
        assert _answer(process)["id"] == 1
        answer = _answer(process)
        while "id" not in answer or answer["id"] != 2:  # the unparseable line may be answered first
            answer = _answer(process)
        assert len(answer["result"]["structuredContent"]["items"]) == 3
        os.write(primary, b"\x04")  # Ctrl-D: end of input on a terminal
        assert process.wait(timeout=30) == 0
        assert "threaded fallback" in process.stderr.read().decode()
    finally:
        if process.returncode is None:
            process.kill()
        process.wait()
        os.close(primary)
        os.close(terminal)
        process.stdout.close()
        process.stderr.close()


def test_pipes_and_sockets_use_the_loop_but_a_terminal_or_a_file_does_not(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    left, right = socket.socketpair()
    primary, terminal = os.openpty()
    regular = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        assert loop_pipes_usable(read_end, write_end)
        assert loop_pipes_usable(left.fileno(), right.fileno())
        assert not loop_pipes_usable(terminal, write_end)  # someone typing at the server
        assert not loop_pipes_usable(read_end, terminal)
        assert not loop_pipes_usable(regular, write_end)  # asyncio's pipe transports refuse files
        os.close(regular)
        assert not loop_pipes_usable(regular, write_end)  # a closed descriptor
    finally:
        for fd in (read_end, write_end, primary, terminal):
            os.close(fd)
        left.close()
        right.close()
