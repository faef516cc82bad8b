"""Stdio served on the event loop's own pipes, with the SDK's threaded transport as the fallback.

The SDK's `stdio_server()` reads stdin and writes stdout through `anyio.wrap_file`: every line read,
every write and every flush hops through a worker thread (~0.65 ms of CPU a call). When stdin and
stdout are pipes or sockets (which is how an assistant starts us) the loop can watch them itself.
We hand the SDK's `stdio_server` two small async file-likes over asyncio pipe transports, so the
framing and JSON-RPC parsing stay the SDK's. On Windows, or when either side is a terminal or a
regular file (asyncio's pipe transports refuse files, and a terminal is a person typing), the SDK's
own transport runs unchanged.

Like the SDK's claim, fd 0 is pointed at the null device and fd 1 at stderr while serving, so a
stray `print` or a child process cannot write into the protocol; both are restored on exit.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import anyio
    from mcp.server import MCPServer

# Lines are framed by the reader's buffer; one message may be large (a 1,000-event page is ~2 MB),
# and the SDK's threaded reader has no cap either.
_LINE_LIMIT = 1 << 28


def loop_pipes_usable(fd_in: int = 0, fd_out: int = 1) -> bool:
    """Both ends are pipes or sockets (not a terminal, not a file) on a platform with pipe transports."""
    if sys.platform == "win32":  # pragma: no cover - the SDK's transport serves Windows
        return False
    try:
        modes = (os.fstat(fd_in).st_mode, os.fstat(fd_out).st_mode)
    except OSError:
        return False
    return all(stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) for mode in modes)


class _LineReader:
    """What the SDK's `stdio_server` iterates over: text lines, the last one possibly without newline."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _LineWriter:
    """What the SDK's `stdio_server` writes to: `write` queues on the transport, `flush` waits for room."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _divert(fd: int, flags: int, target: int | None) -> int:
    """Keep fd's wire on a private descriptor (>= 3, close-on-exec); point fd at target or the null device."""
    private = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    replacement = os.open(os.devnull, flags) if target is None else os.dup(target)
    os.dup2(replacement, fd)
    os.close(replacement)
    return private


def _restore(fd: int, private: int) -> None:
    os.dup2(private, fd)
    os.close(private)
    os.set_blocking(fd, True)  # the pipe transports made the shared file description non-blocking


def _transport_file(private: int, mode: str) -> Any:
    # The transport closes what it is given; the private descriptor stays for the restore.
    return os.fdopen(fcntl.fcntl(private, fcntl.F_DUPFD_CLOEXEC, 3), mode)


@asynccontextmanager
async def loop_pipes(fd_in: int = 0, fd_out: int = 1) -> AsyncIterator[tuple[_LineReader, _LineWriter]]:
    """Line reader and writer over the wire of fd_in/fd_out, served by the running asyncio loop."""
    loop = asyncio.get_running_loop()
    wire_in = _divert(fd_in, os.O_RDONLY, None)
    wire_out = _divert(fd_out, os.O_WRONLY, 2)
    read_transport: asyncio.BaseTransport | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        reader = asyncio.StreamReader(limit=_LINE_LIMIT)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), _transport_file(wire_in, "rb")
        )
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), _transport_file(wire_out, "wb")
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        yield _LineReader(reader), _LineWriter(writer)
    finally:
        if read_transport is not None:
            read_transport.close()
        if writer is not None:
            # Everything queued reaches the peer before the pipe closes (unless the peer is gone).
            writer.close()
            with suppress(BrokenPipeError, ConnectionResetError):
                await writer.wait_closed()
        _restore(fd_out, wire_out)
        _restore(fd_in, wire_in)


async def run_stdio(server: MCPServer[Any]) -> None:
    """Serve one stdio session: on the loop's pipes where possible, else through the SDK's threads."""
    if not loop_pipes_usable():
        await server.run_stdio_async()
        return
    from mcp.server.stdio import stdio_server

    lowlevel = server._lowlevel_server  # MCPServer.run_stdio_async takes no streams; this is its body
    async with (
        loop_pipes() as (lines, out),
        stdio_server(cast("anyio.AsyncFile[str]", lines), cast("anyio.AsyncFile[str]", out)) as (read, write),
    ):
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
