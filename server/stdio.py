"""Stdio served on the event loop's own pipes, with the SDK's threaded transport as the fallback.

The SDK's `stdio_server()` reads stdin and writes stdout through `anyio.wrap_file`: every line read,
every write and every flush hops through a worker thread (~0.65 ms of CPU a call), and through a
reader and a writer task with a memory stream each. When stdin and stdout are pipes or sockets
(which is how an assistant starts us) the loop can watch them itself: the SDK's dispatcher gets a
read stream and a write stream over asyncio pipe transports, which parse and encode each message
as the SDK's transport does, in the task that reads or sends it. On Windows, or when either side is
a terminal or a regular file (asyncio's pipe transports refuse files, and a terminal is a person
typing), the SDK's own transport runs unchanged.

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
from typing import TYPE_CHECKING, Any

import anyio
import mcp.types as types
from mcp.shared.message import SessionMessage

from server.results import encode_line

if TYPE_CHECKING:
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


class PipeReadStream:
    """The SDK's read stream over the stdin pipe: each line parsed as the SDK's reader does, no task between.

    The SDK's own transport puts a reader task and a memory stream between the pipe and its
    dispatcher (two loop turns a message). Here the dispatcher's read is the pipe's read.

    A ``ping`` on a connection of the handshake era is answered here, as the SDK answers it (an empty
    result, whether or not the handshake is done), without the SDK's session, task and middleware
    hops (~0.2 ms of CPU each). The first request is always left to the SDK: it decides the era, and
    the 2026-07-28 era has no ping (the SDK answers that with an error, so such pings go to it too).
    """

    def __init__(self, reader: asyncio.StreamReader, out: PipeWriteStream) -> None:
        self._reader = reader
        self._out = out
        self._closed = False
        self.legacy: bool | None = None  # the era, once the first request has decided it

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            line = await self._reader.readline()
            if not line:
                raise anyio.EndOfStream
            try:
                message = types.jsonrpc_message_adapter.validate_json(
                    line.decode("utf-8", errors="replace"), by_name=False
                )
            except Exception as exc:  # as the SDK's reader: the dispatcher sees (and drops) it
                return exc
            if isinstance(message, types.JSONRPCRequest):
                if self.legacy is None:
                    self.legacy = message.method == "initialize" or not _modern_envelope(message.params)
                elif self.legacy and message.method == "ping" and not message.params:
                    answer = types.JSONRPCResponse(jsonrpc="2.0", id=message.id, result={})
                    # A peer that has gone away gets no answer, as from the SDK's dispatcher.
                    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await self._out.send(SessionMessage(answer))
                    continue
            return SessionMessage(message)

    def __aiter__(self) -> PipeReadStream:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> PipeReadStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _modern_envelope(params: dict[str, Any] | None) -> bool:
    """Whether a request carries the 2026-07-28 envelope (the SDK's test for the era it opens)."""
    meta = (params or {}).get("_meta")
    return isinstance(meta, dict) and types.PROTOCOL_VERSION_META_KEY in meta


class PipeWriteStream:
    """The SDK's write stream over the stdout pipe: each message encoded and queued on the pipe by its sender.

    One ``write`` per message keeps lines whole whichever task sends; ``drain`` waits while the
    pipe is full. A peer that has gone away is the SDK's ``BrokenResourceError`` (its writers then
    drop the message), not a crash of the session.
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._closed = False

    async def send(self, item: SessionMessage, /) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        if self._writer.is_closing():
            raise anyio.BrokenResourceError
        self._writer.write(encode_line(item.message))
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            raise anyio.BrokenResourceError from exc

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> PipeWriteStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


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


# A 1,000-event answer is a 2 MB line: through a pipe of Linux's default 64 KiB that is ~30 rounds of
# "write, wake the client, wait for room" (bench.ab: ~2 ms of CPU and ~20 ms of latency a page).
PIPE_SIZE = 1 << 20


def _widen(fd: int) -> None:
    """Ask for a larger pipe buffer, where the platform has the call (Linux) and allows the size."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None and stat.S_ISFIFO(os.fstat(fd).st_mode):
        with suppress(OSError):  # above /proc/sys/fs/pipe-max-size for this user: keep what it is
            fcntl.fcntl(fd, set_size, PIPE_SIZE)


def _transport_file(private: int, mode: str) -> Any:
    # The transport closes what it is given; the private descriptor stays for the restore.
    return os.fdopen(fcntl.fcntl(private, fcntl.F_DUPFD_CLOEXEC, 3), mode)


@asynccontextmanager
async def loop_pipes(fd_in: int = 0, fd_out: int = 1) -> AsyncIterator[tuple[PipeReadStream, PipeWriteStream]]:
    """The SDK's read and write streams over the wire of fd_in/fd_out, served by the running asyncio loop."""
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
        _widen(wire_out)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), _transport_file(wire_out, "wb")
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        out = PipeWriteStream(writer)
        yield PipeReadStream(reader, out), out
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
    lowlevel = server._lowlevel_server  # MCPServer.run_stdio_async takes no streams; this is its body
    async with loop_pipes() as (read, write):
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
