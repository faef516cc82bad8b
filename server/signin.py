"""Signing in from the assistant: URL elicitation now, the loopback redirect in the background.

When a tool call finds no usable login and the MCP client can show a URL elicitation, the call
answers with ``URLElicitationRequiredError`` carrying Feishu's authorization URL: the client shows
it to the user directly, never to the model. Meanwhile the server listens on the login port in a
thread of its own (so it outlives the tool call), stores the login when the browser comes back,
and tells the client with ``notifications/elicitation/complete`` where the connection allows it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import httpx2
from mcp import UrlElicitationRequiredError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.types import ClientCapabilities, ElicitationCapability, ElicitRequestURLParams, UrlElicitationCapability

from auth.errors import AuthError, LoginFailed
from auth.login import LoginRequest, PendingLogin
from auth.loopback import LoopbackReceiver
from auth.store import TokenStore

log = logging.getLogger("feishu_calendar_mcp.auth")
ASSISTANT_LOGIN_TIMEOUT = 600.0
_URL_ELICITATION = ClientCapabilities(elicitation=ElicitationCapability(url=UrlElicitationCapability()))


@dataclass(frozen=True)
class Caller:
    """The tool call in progress, as far as signing in cares."""

    session: ServerSession
    takes_url: bool


# Set for each tool call by :func:`remember_url_elicitation`; token sources have no context of their own.
_CALLER: ContextVar[Caller | None] = ContextVar("feishu_sign_in_caller", default=None)


def client_takes_url() -> bool:
    caller = _CALLER.get()
    return caller is not None and caller.takes_url


async def remember_url_elicitation(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: note, for the token source, whether this call's client shows URL elicitations."""
    if ctx.method != "tools/call":
        return await call_next(ctx)
    reset = _CALLER.set(Caller(ctx.session, bool(ctx.session.check_client_capability(_URL_ELICITATION))))
    try:
        return await call_next(ctx)
    finally:
        _CALLER.reset(reset)


@dataclass
class _Attempt:
    pending: PendingLogin
    elicitation_id: str
    thread: threading.Thread | None = None
    # Who was shown this attempt's URL: told when it completes (session, its event loop).
    watchers: list[tuple[ServerSession, anyio.lowlevel.EventLoopToken]] = field(default_factory=list)


class AssistantSignIn:
    """One sign-in attempt at a time, started by a tool call, finished by the server itself."""

    def __init__(
        self,
        request: LoginRequest,
        store: TokenStore,
        profile: str | None,
        port: int,
        *,
        timeout: float = ASSISTANT_LOGIN_TIMEOUT,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.request = request
        self.store = store
        self.profile = profile
        self.port = port
        self.timeout = timeout
        self.transport = transport
        self._guard = threading.Lock()
        self._attempt: _Attempt | None = None
        self.last_error = ""

    async def elicitation(self, reason: str) -> UrlElicitationRequiredError:
        """The error that shows the user the authorization URL (starting an attempt if none runs)."""
        attempt = await anyio.to_thread.run_sync(self._start)
        caller = _CALLER.get()
        if caller is not None:
            attempt.watchers.append((caller.session, anyio.lowlevel.current_token()))
        return UrlElicitationRequiredError(
            [
                ElicitRequestURLParams(
                    mode="url",
                    message=self._message(reason),
                    url=attempt.pending.url,
                    elicitation_id=attempt.elicitation_id,
                )
            ],
            message="Feishu sign-in required: open the link shown, approve, then retry the request.",
        )

    def wait_finished(self, timeout: float) -> None:
        """Block until the background attempt ends (tests, shutdown)."""
        attempt = self._attempt
        if attempt is not None and attempt.thread is not None:
            attempt.thread.join(timeout)

    def _message(self, reason: str) -> str:
        text = f"Sign in to Feishu to let the assistant use your calendar ({reason.rstrip('.')})."
        if self.last_error:
            text += f" The previous attempt failed: {self.last_error}"
        return text

    def _start(self) -> _Attempt:
        with self._guard:
            current = self._attempt
            if current is not None and current.thread is not None and current.thread.is_alive():
                return current
            attempt = _Attempt(PendingLogin(self.request), f"feishu-login-{secrets.token_hex(8)}")
            listening = threading.Event()
            failure: list[AuthError] = []
            attempt.thread = threading.Thread(
                target=self._run, args=(attempt, listening, failure), name="feishu-login", daemon=True
            )
            attempt.thread.start()
            listening.wait(10)
            if failure:
                raise LoginFailed(str(failure[0]))
            self._attempt = attempt
            return attempt

    def _run(self, attempt: _Attempt, listening: threading.Event, failure: list[AuthError]) -> None:
        async def wait_and_finish() -> None:
            async with LoopbackReceiver(self.port, attempt.pending.judge) as receiver:
                listening.set()
                callback_url = await receiver.wait(self.timeout)
            result = await attempt.pending.finish(callback_url, self.store, self.profile, transport=self.transport)
            log.info("signed in from the assistant as %s (profile %s)", result.record.name, result.profile)

        try:
            anyio.run(wait_and_finish)
        except AuthError as exc:
            failure.append(exc)
            self.last_error = str(exc)
            log.warning("sign-in from the assistant failed: %s", exc)
            return
        finally:
            listening.set()
        self.last_error = ""
        for session, loop in attempt.watchers:
            # Stateless or 2026-era connections have no channel for it; the client then just retries.
            with contextlib.suppress(Exception):
                anyio.from_thread.run(session.send_elicit_complete, attempt.elicitation_id, token=loop)
