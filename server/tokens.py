"""The user token the server acts with, and how auth failures reach the model.

Precedence: ``FEISHU_USER_ACCESS_TOKEN`` (a pre-obtained token, never refreshed) beats the token
store; otherwise the profile's stored login (``feishu-calendar-mcp login``) is used and kept
fresh by :class:`auth.session.UserTokens`. Auth failures leave as :class:`AuthRequired`, which the
tool boundary turns into a ToolError naming the exact login command. A token store that cannot be
read or written leaves as a ``token-store`` error whose advice is the store's own (a damaged store:
the exact ``login``/``logout`` commands that repair it), never as an internal error. Where the MCP client supports
URL elicitation, a missing login instead shows the user Feishu's authorization URL (outside the
model's context) and the server finishes the login itself in the background.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Mapping

import httpx2

from auth.errors import (
    AuthError,
    LoginFailed,
    LoginRequired,
    ReloginRequired,
    StoreDamaged,
    StoreError,
    TokenEndpointError,
)
from auth.keyring_store import KeyringTokenStore, system_keyring
from auth.login import LoginRequest
from auth.loopback import redirect_uri_for
from auth.oauth import AppCredentials, Endpoints
from auth.scopes import minimal_scopes
from auth.session import UserTokens
from auth.store import FileTokenStore, TokenStore, config_dir
from server.errors import AuthRequired, FeishuError, UpstreamUnavailable
from server.settings import Settings
from server.signin import AssistantSignIn, client_takes_url
from server.static_token import StaticToken, env_token

__all__ = ["AssistantSignIn", "StaticToken", "StoredLogin", "token_source"]

log = logging.getLogger("feishu_calendar_mcp.auth")


def login_command(settings: Settings, command: str = "login") -> str:
    """The exact command that signs this server's profile in again (or, ``logout``, out)."""
    words = ["feishu-calendar-mcp", command]
    if settings.domain != "feishu" and command == "login":
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

    return minimal_scopes((s for op in select_operations(settings) for s in op.scope_sets), extra)


def login_request(settings: Settings, port: int, extra_scopes: tuple[str, ...] = ()) -> LoginRequest:
    return LoginRequest(
        credentials(settings), endpoints(settings), login_scopes(settings, extra_scopes), redirect_uri_for(port)
    )


def auth_required(exc: AuthError, command: str) -> FeishuError:
    """An auth failure as the FeishuError the tool boundary turns into a ToolError.

    A token endpoint that is down or answers oddly is not a reason to sign in again: that one
    says to retry instead.
    """
    if isinstance(exc, TokenEndpointError):
        return UpstreamUnavailable(
            "refresh-user-token",
            exc.code or -1,
            exc.reason.rstrip("."),
            advice="retry in a minute; if it keeps failing, check the token endpoint's address, which "
            "FEISHU_OAUTH_TOKEN_URL sets (by default it follows FEISHU_DOMAIN)",
        )
    if isinstance(exc, StoreError):
        # No Feishu code (-1): the store on this machine is the problem, and its advice settles it.
        kind = AuthRequired if isinstance(exc, StoreDamaged) else FeishuError
        return kind("token-store", -1, exc.reason.rstrip("."), advice=f"{exc.advice}, then retry")
    code = exc.code or (99991677 if isinstance(exc, ReloginRequired) else 99991661)
    return AuthRequired(
        "sign-in", code, exc.reason.rstrip("."), advice=f"run `{exc.login_command or command}`, then retry"
    )


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
        if self.sign_in is not None and client_takes_url():
            try:
                return await self.sign_in.elicitation(exc.reason)
            except LoginFailed as failed:
                log.warning("could not start the sign-in from the assistant: %s", failed)
        return auth_required(exc, self.tokens.login_command)


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
        logout_command=login_command(settings, "logout"),
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
    static = env_token(settings)
    if static is not None:
        return static
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
