"""The user token the server acts with, and how auth failures reach the model.

Precedence: ``FEISHU_USER_ACCESS_TOKEN`` (a pre-obtained token, never refreshed) beats the token
store; otherwise the profile's stored login (``feishu-calendar-mcp login``) is used and kept
fresh by :class:`auth.session.UserTokens`. Auth failures leave as :class:`AuthRequired`, which the
tool boundary turns into a ToolError naming the exact login command. Where the MCP client supports
URL elicitation, a missing login instead shows the user Feishu's authorization URL (outside the
model's context) and the server finishes the login itself in the background.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import anyio
import httpx2
from mcp import UrlElicitationRequiredError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import ClientCapabilities, ElicitationCapability, ElicitRequestURLParams, UrlElicitationCapability

from auth.errors import AuthError, LoginFailed, LoginRequired, ReloginRequired
from auth.keyring_store import KeyringTokenStore, system_keyring
from auth.login import LoginRequest, PendingLogin
from auth.loopback import LoopbackReceiver, redirect_uri_for
from auth.oauth import AppCredentials, Endpoints
from auth.scopes import minimal_scopes
from auth.session import UserTokens
from auth.store import FileTokenStore, TokenStore, config_dir
from server.errors import AuthRequired
from server.settings import Settings
from server.static_token import StaticToken

__all__ = ["AssistantSignIn", "StaticToken", "StoredLogin", "token_source"]

log = logging.getLogger("feishu_calendar_mcp.auth")
ASSISTANT_LOGIN_TIMEOUT = 600.0

# Set per tool call by :func:`remember_url_elicitation`: may this call answer with a URL elicitation?
_CLIENT_TAKES_URL: ContextVar[bool] = ContextVar("client_takes_url_elicitation", default=False)


def login_command(settings: Settings) -> str:
    """The exact command that signs this server's profile in again."""
    words = ["feishu-calendar-mcp", "login"]
    if settings.domain != "feishu":
        words += ["--domain", settings.domain]
    if settings.profile:
        words += ["--profile", settings.profile]
    return shlex.join(words)


def credentials(settings: Settings) -> AppCredentials:
    return AppCredentials(settings.app_id, settings.app_secret.get_secret_value())


def endpoints(settings: Settings) -> Endpoints:
    return Endpoints.for_domain(settings.domain, authorize_url=settings.authorize_url, token_url=settings.token_url)


def token_store(settings: Settings, environ: Mapping[str, str] = os.environ) -> TokenStore:
    directory = config_dir(environ, settings.config_dir)
    if settings.token_store == "keyring":  # noqa: S105 (a backend name)
        return KeyringTokenStore(directory, system_keyring())
    return FileTokenStore(directory)


def login_scopes(settings: Settings, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What a login asks for: the offered tools' narrowest scopes, offline_access, and ``extra``."""
    from server.app import select_operations

    return minimal_scopes((op.scopes for op in select_operations(settings)), extra)


def login_request(settings: Settings, port: int, extra_scopes: tuple[str, ...] = ()) -> LoginRequest:
    return LoginRequest(
        credentials(settings), endpoints(settings), login_scopes(settings, extra_scopes), redirect_uri_for(port)
    )


def auth_required(exc: AuthError, command: str) -> AuthRequired:
    """An auth failure as the FeishuError the tool boundary turns into a ToolError."""
    code = exc.code or (99991677 if isinstance(exc, ReloginRequired) else 99991661)
    return AuthRequired("sign-in", code, str(exc).rstrip("."), advice=f"run `{command}`, then retry")


class StoredLogin:
    """The server's token source for a stored login; every auth failure becomes AuthRequired."""

    def __init__(self, tokens: UserTokens, sign_in: AssistantSignIn | None = None) -> None:
        self.tokens = tokens
        self.sign_in = sign_in

    def __repr__(self) -> str:
        return f"StoredLogin({self.tokens!r})"

    @property
    def identity(self) -> str:
        return self.tokens.identity

    async def access_token(self) -> str:
        try:
            return await self.tokens.access_token()
        except (LoginRequired, ReloginRequired) as exc:
            raise await self._signed_out(exc) from exc
        except AuthError as exc:
            raise auth_required(exc, self.tokens.login_command) from exc

    async def refresh_after_rejection(self, rejected: str) -> str:
        try:
            return await self.tokens.refresh_after_rejection(rejected)
        except (LoginRequired, ReloginRequired) as exc:
            raise await self._signed_out(exc) from exc
        except AuthError as exc:
            raise auth_required(exc, self.tokens.login_command) from exc

    async def _signed_out(self, exc: AuthError) -> Exception:
        if self.sign_in is not None and _CLIENT_TAKES_URL.get():
            try:
                return await self.sign_in.elicitation(str(exc))
            except LoginFailed as failed:
                log.warning("could not start the sign-in from the assistant: %s", failed)
        return auth_required(exc, self.tokens.login_command)


class AssistantSignIn:
    """Signs the user in from a tool call: URL elicitation now, the loopback redirect in the background.

    One attempt at a time; it listens on the login port in its own thread (with its own event
    loop) so it outlives the tool call that started it, and stores the login when it completes.
    """

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
        self._running: tuple[PendingLogin, threading.Thread] | None = None
        self.last_error = ""

    async def elicitation(self, reason: str) -> Exception:
        """The UrlElicitationRequiredError that shows the user the authorization URL."""
        pending = await anyio.to_thread.run_sync(self._start)
        return UrlElicitationRequiredError(
            [
                ElicitRequestURLParams(
                    mode="url",
                    message=f"Sign in to Feishu to let the assistant use your calendar ({reason.rstrip('.')}).",
                    url=pending.url,
                    elicitation_id=f"feishu-login-{id(pending):x}",
                )
            ],
            message="Feishu sign-in required: open the link shown, approve, then retry the request.",
        )

    def _start(self) -> PendingLogin:
        with self._guard:
            if self._running is not None and self._running[1].is_alive():
                return self._running[0]
            pending = PendingLogin(self.request)
            listening = threading.Event()
            failure: list[BaseException] = []
            thread = threading.Thread(
                target=self._run, args=(pending, listening, failure), name="feishu-login", daemon=True
            )
            thread.start()
            listening.wait(10)
            if failure:
                raise LoginFailed(str(failure[0]))
            self._running = (pending, thread)
            return pending

    def _run(self, pending: PendingLogin, listening: threading.Event, failure: list[BaseException]) -> None:
        async def wait_and_finish() -> None:
            async with LoopbackReceiver(self.port, pending.judge) as receiver:
                listening.set()
                callback_url = await receiver.wait(self.timeout)
            result = await pending.finish(callback_url, self.store, self.profile, transport=self.transport)
            log.info("signed in from the assistant as %s (profile %s)", result.record.name, result.profile)

        try:
            anyio.run(wait_and_finish)
        except AuthError as exc:
            failure.append(exc)
            self.last_error = str(exc)
            log.warning("sign-in from the assistant failed: %s", exc)
        finally:
            listening.set()

    def wait_finished(self, timeout: float) -> None:
        """Block until the background attempt ends (tests, shutdown)."""
        running = self._running
        if running is not None:
            running[1].join(timeout)


def user_tokens(
    settings: Settings,
    *,
    environ: Mapping[str, str] = os.environ,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> UserTokens:
    """The stored login of the settings' profile, refreshed as needed."""
    return UserTokens(
        token_store(settings, environ),
        credentials(settings),
        endpoints(settings),
        settings.profile,
        login_command=login_command(settings),
        transport=transport,
    )


def token_source(
    settings: Settings,
    *,
    environ: Mapping[str, str] = os.environ,
    transport: httpx2.AsyncBaseTransport | None = None,
    sign_in_from_assistant: bool = True,
) -> StaticToken | StoredLogin:
    """FEISHU_USER_ACCESS_TOKEN when set (no refresh), else the profile's stored login."""
    static = settings.user_access_token.get_secret_value()
    if static:
        return StaticToken(static, identity="env")
    tokens = user_tokens(settings, environ=environ, transport=transport)
    store = tokens.store
    sign_in = None
    if sign_in_from_assistant and settings.app_id and settings.app_secret.get_secret_value():
        sign_in = AssistantSignIn(
            login_request(settings, settings.login_port),
            store,
            settings.profile,
            settings.login_port,
            transport=transport,
        )
    return StoredLogin(tokens, sign_in)


async def remember_url_elicitation(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: note whether this tool call's client can show a URL elicitation.

    The token source has no request context of its own; a context variable carries this one fact.
    """
    if ctx.method != "tools/call":
        return await call_next(ctx)
    wanted = ClientCapabilities(elicitation=ElicitationCapability(url=UrlElicitationCapability()))
    supported = bool(ctx.session.check_client_capability(wanted))
    reset = _CLIENT_TAKES_URL.set(supported)
    try:
        return await call_next(ctx)
    finally:
        _CLIENT_TAKES_URL.reset(reset)
