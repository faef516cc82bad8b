"""Thin JSON-RPC clients for the harness, one per transport.

They speak the wire directly instead of going through ``mcp.Client`` so that the time
measured is the server's (plus a pipe or a loopback socket), not a second SDK's: on a
two-core machine a heavier client would compete with the server for the CPU.

- stdio: the 2025-11-25 handshake (``initialize``, ``notifications/initialized``,
  ``tools/list``), which is what assistants that spawn servers send today.
- Streamable HTTP: the 2026-07-28 form ``mcp.Client`` uses by default: one self-contained
  POST per request, no session.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx2

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
LEGACY_HTTP = "2025-06-18"  # the newest the official Lark server (TypeScript SDK) speaks
CLIENT_INFO = {"name": "bench", "version": "0"}


class CallFailed(RuntimeError):
    """The server answered with a JSON-RPC error or an is_error result: nothing to time."""


def _checked(message: dict[str, Any]) -> dict[str, Any]:
    if "error" in message:
        raise CallFailed(json.dumps(message["error"])[:500])
    result: dict[str, Any] = message["result"]
    if result.get("isError"):
        raise CallFailed(json.dumps(result.get("content"))[:500])
    return result


class StdioPeer:
    """A server spawned as a child process, spoken to over its stdin/stdout."""

    def __init__(
        self, name: str, argv: Sequence[str], env: dict[str, str], stderr_log: Path, cwd: Path | None = None
    ) -> None:
        self.name = name
        self.cwd = cwd
        self.argv = list(argv)
        self.env = env
        self.stderr_log = stderr_log
        self.process: asyncio.subprocess.Process | None = None
        self.tools_list: bytes = b""
        self._ids = itertools.count(1)
        # Each answer is parsed once, by the reader (it needs the id): a second parse of every answer
        # billed the client twice for each byte, which weighed on the server with the larger answers.
        self._pending: dict[int, asyncio.Future[tuple[float, bytes, dict[str, Any]]]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> float:
        """Spawn, initialize and list tools; returns the seconds that took (the cold start)."""
        started = time.perf_counter()
        with self.stderr_log.open("ab") as errlog:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errlog,
                env=self.env,
                cwd=self.cwd,
                limit=1 << 24,
            )
        self._reader = asyncio.create_task(self._read())
        init = {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": CLIENT_INFO}
        await self.request("initialize", init)
        await self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        _, raw, _ = await self._roundtrip("tools/list", {})
        elapsed = time.perf_counter() - started
        self.tools_list = raw
        return elapsed

    async def call(self, tool: str, arguments: dict[str, Any]) -> float:
        """One tools/call; returns its round-trip time in seconds."""
        return (await self.sized_call(tool, arguments))[0]

    async def sized_call(self, tool: str, arguments: dict[str, Any]) -> tuple[float, int]:
        """One tools/call: its round-trip time in seconds and the answer's size on the wire in bytes."""
        started = time.perf_counter()
        answered, raw, message = await self._roundtrip("tools/call", {"name": tool, "arguments": arguments})
        _checked(message)
        return answered - started, len(raw) + 1

    async def ping(self) -> float:
        started = time.perf_counter()
        answered, _, _ = await self._roundtrip("ping", {})
        return answered - started

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        _, _, message = await self._roundtrip(method, params)
        return _checked(message)

    async def close(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.terminate()
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()

    async def _roundtrip(self, method: str, params: dict[str, Any]) -> tuple[float, bytes, dict[str, Any]]:
        """When the answer arrived, its line as sent (no newline) and the parsed message."""
        request_id = next(self._ids)
        future: asyncio.Future[tuple[float, bytes, dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 60)

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for line in self.process.stdout:
            answered = time.perf_counter()  # before parsing, so parsing is not timed
            message = json.loads(line)
            future = self._pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result((answered, line.rstrip(b"\n"), message))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CallFailed(f"{self.name} closed its stdout; see {self.stderr_log}"))


class HttpPeer:
    """A server already listening for Streamable HTTP on 127.0.0.1, one POST per request.

    ``legacy``: a stateless server of the 2025 protocol (no session id), spoken to in that
    protocol's form, whose answer may come as one server-sent event.
    """

    def __init__(
        self, name: str, url: str, pid: int, headers: dict[str, str] | None = None, *, legacy: bool = False
    ) -> None:
        self.name = name
        self.url = url
        self.pid = pid
        self.legacy = legacy
        self.last_size = 0
        self._ids = itertools.count(1)
        self.http = httpx2.AsyncClient(
            timeout=60, limits=httpx2.Limits(max_connections=16, max_keepalive_connections=16), headers=headers
        )

    async def request(self, method: str, params: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        return (await self._exchange(method, params, name))[1]

    async def _exchange(
        self, method: str, params: dict[str, Any], name: str | None = None
    ) -> tuple[float, dict[str, Any]]:
        """When the whole answer had arrived, and the answer checked."""
        version = LEGACY_HTTP if self.legacy else MODERN
        if not self.legacy:
            meta = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
            params = {**params, "_meta": meta}
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": version,
            "mcp-method": method,
        }
        if name is not None:
            headers["mcp-name"] = name
        response = await self.http.post(self.url, content=json.dumps(message), headers=headers)
        # The whole answer is in: the clock stops before parsing it, as the stdio client's does (the
        # client's own parsing is not the server's time; a 1,000-event page takes it ~9 ms).
        answered = time.perf_counter()
        response.raise_for_status()
        body = response.content
        self.last_size = len(body)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            data = [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
            return answered, _checked(json.loads(data[-1]))
        return answered, _checked(json.loads(body))

    async def call(self, tool: str, arguments: dict[str, Any]) -> float:
        return (await self.sized_call(tool, arguments))[0]

    async def sized_call(self, tool: str, arguments: dict[str, Any]) -> tuple[float, int]:
        """One tools/call: its round-trip time in seconds and the answer's body size in bytes."""
        started = time.perf_counter()
        answered, _ = await self._exchange("tools/call", {"name": tool, "arguments": arguments}, name=tool)
        return answered - started, self.last_size

    async def ping(self) -> float:
        started = time.perf_counter()
        answered, _ = await self._exchange("ping", {})
        return answered - started

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.request("server/discover", {})
                return
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.http.aclose()


Call = Callable[[], Awaitable[float]]


async def throughput(call: Call, total: int, concurrency: int) -> float:
    """Calls per second for ``total`` calls issued by ``concurrency`` workers."""
    remaining = iter(range(total))

    async def worker() -> None:
        for _ in remaining:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)
