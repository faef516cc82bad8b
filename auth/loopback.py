"""A one-shot HTTP listener on 127.0.0.1 that receives the browser's redirect after consent.

It exists only while a login waits: opened by ``async with``, closed as soon as the callback
arrived (or the wait timed out). It answers nothing but ``GET /callback``; the page it shows
says whether to go back to the terminal or to try again, and never repeats the query.
"""

from __future__ import annotations

import contextlib
import errno
import html
import math
from collections.abc import Callable
from types import TracebackType

import anyio
from anyio.abc import Listener, SocketStream

from auth.errors import LoginFailed

CALLBACK_PATH = "/callback"
DEFAULT_PORT = 17653
_MAX_REQUEST_BYTES = 16 * 1024


def redirect_uri_for(port: int) -> str:
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


# Judges a callback URL before the page is answered: returns (accepted, message for the page).
Judge = Callable[[str], tuple[bool, str]]


class LoopbackReceiver:
    """Listens on 127.0.0.1:port for the one redirect a login expects."""

    def __init__(self, port: int, judge: Judge) -> None:
        self.port = port
        self.judge = judge
        self._listener: Listener[SocketStream] | None = None
        self._received: str | None = None
        self._done = anyio.Event()

    @property
    def redirect_uri(self) -> str:
        return redirect_uri_for(self.port)

    async def __aenter__(self) -> LoopbackReceiver:
        try:
            self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE or "in use" in str(exc).lower():
                raise LoginFailed(
                    f"port {self.port} on 127.0.0.1 is in use; pass --port with a free port that is "
                    "also registered as a redirect URL of the app"
                ) from exc
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._listener is not None:
            await self._listener.aclose()
            self._listener = None

    async def wait(self, timeout: float) -> str:
        """The full callback URL the browser was sent to; LoginFailed after ``timeout`` seconds."""
        listener = self._listener
        if listener is None:
            raise RuntimeError("the receiver is not listening")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(listener.serve, self._handle, tasks)
            with anyio.move_on_after(timeout if timeout > 0 else math.inf):
                await self._done.wait()
            tasks.cancel_scope.cancel()
        if self._received is None:
            raise LoginFailed(
                f"no answer from the browser within {timeout:g} s. If Feishu's page showed an error "
                f"(20029: redirect URI not registered), add {self.redirect_uri} to the app's redirect URLs "
                "(developer console > Security settings) or pass --port; otherwise run the login again "
                "(or use --no-browser and paste the address the browser ends on)"
            )
        return self._received

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            request = b""
            with anyio.move_on_after(10), contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while b"\r\n\r\n" not in request and len(request) < _MAX_REQUEST_BYTES:
                    request += await stream.receive()
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            target = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
            if self._done.is_set() or target.split("?", 1)[0] != CALLBACK_PATH:
                await _respond(stream, 404, "Not found", "This address only receives the Feishu sign-in.")
                return
            url = f"http://127.0.0.1:{self.port}{target}"
            accepted, message = self.judge(url)
            title = "Signed in" if accepted else "Sign-in failed"
            await _respond(stream, 200 if accepted else 400, title, message)
            self._received = url
            self._done.set()


async def _respond(stream: SocketStream, status: int, title: str, message: str) -> None:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>feishu-calendar-mcp</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    ).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.send(head + body)
