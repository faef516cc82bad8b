"""Signing a user in: authorization code + PKCE S256 through the browser, tokens into the store.

A :class:`PendingLogin` is one attempt. It makes a random single-use ``state`` and a PKCE
verifier that never leave this process, builds the authorization URL, checks the redirect the
browser comes back with, and trades the code for tokens. Nothing is stored unless every check
passed and Feishu said who the user is.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from auth.errors import LoginFailed, TokenEndpointError
from auth.loopback import LoopbackReceiver
from auth.oauth import AppCredentials, Endpoints, describe_token_error, fetch_user_info, oauth_client
from auth.record import TokenRecord
from auth.store import TokenStore, save_record

OFFLINE_ACCESS = "offline_access"
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class LoginRequest:
    """What to ask for and where the answer comes back."""

    credentials: AppCredentials
    endpoints: Endpoints
    scopes: tuple[str, ...]
    redirect_uri: str
    force_consent: bool = False


@dataclass(frozen=True)
class LoginResult:
    profile: str
    record: TokenRecord
    warnings: tuple[str, ...] = ()


class PendingLogin:
    """One authorization attempt; ``repr`` and messages never show its state or verifier."""

    def __init__(self, request: LoginRequest) -> None:
        if not request.credentials.app_id or not request.credentials.app_secret:
            raise LoginFailed("set FEISHU_APP_ID and FEISHU_APP_SECRET (from the developer console) to sign in")
        self.request = request
        self._state = secrets.token_urlsafe(32)
        self._verifier = secrets.token_urlsafe(64)  # 86 chars of [A-Za-z0-9_-], inside PKCE's 43-128
        self._used = False
        self.created = time.time()
        params = {
            "client_id": request.credentials.app_id,
            "response_type": "code",
            "redirect_uri": request.redirect_uri,
            "scope": " ".join(request.scopes),
            "state": self._state,
            "code_challenge": create_s256_code_challenge(self._verifier),
            "code_challenge_method": "S256",
        }
        if request.force_consent:
            params["prompt"] = "consent"
        self.url = f"{request.endpoints.authorize_url}?{urlencode(params)}"

    def __repr__(self) -> str:
        return f"PendingLogin(redirect_uri={self.request.redirect_uri!r})"

    def code_from_redirect(self, callback_url: str) -> str:
        """The code from the redirect, after checking it answers this very attempt."""
        parts = urlsplit(callback_url.strip())
        expected = urlsplit(self.request.redirect_uri)
        if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
            raise LoginFailed(
                f"that is not the sign-in redirect: paste the whole address the browser ended on "
                f"(it starts with {self.request.redirect_uri}). Nothing was stored."
            )
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if not secrets.compare_digest(query.get("state", ""), self._state):
            raise LoginFailed(
                "the sign-in answer does not belong to this login (state mismatch): it may be from an "
                "older attempt or forged. Run the login again. Nothing was stored."
            )
        if self._used:
            raise LoginFailed("this login attempt was already completed; run the login again. Nothing was stored.")
        error = query.get("error", "")
        if error == "access_denied":
            raise LoginFailed("you declined the authorization in Feishu. Nothing was stored.")
        if error:
            # Feishu's consent page may send its numeric error code along (e.g. 20029).
            feishu_code = int(query["code"]) if query.get("code", "").isdigit() else 0
            meaning = describe_token_error(
                feishu_code, error, query.get("error_description", ""), self.request.redirect_uri
            )
            raise LoginFailed(f"Feishu refused the authorization: {meaning}. Nothing was stored.", code=feishu_code)
        code = query.get("code", "")
        if not code:
            raise LoginFailed("the redirect carried no authorization code; run the login again. Nothing was stored.")
        return code

    def judge(self, callback_url: str) -> tuple[bool, str]:
        """For the loopback page: would this redirect be accepted?"""
        try:
            self.code_from_redirect(callback_url)
        except LoginFailed as exc:
            return False, str(exc)
        return True, "Feishu sign-in received. You can close this tab and return to the terminal."

    async def exchange(self, code: str, *, transport: httpx2.AsyncBaseTransport | None = None) -> dict[str, Any]:
        """Trade ``code`` and this attempt's verifier for tokens (the raw token answer)."""
        request = self.request
        try:
            async with oauth_client(
                request.credentials, request.endpoints, redirect_uri=request.redirect_uri, transport=transport
            ) as client:
                token = await client.fetch_token(request.endpoints.token_url, code=code, code_verifier=self._verifier)
        except TokenEndpointError as exc:
            raise LoginFailed(f"signing in failed: {exc}. Nothing was stored.", code=exc.code) from exc
        except httpx2.TransportError as exc:
            raise LoginFailed(
                f"could not reach the token endpoint {request.endpoints.token_url} ({type(exc).__name__}). "
                "Nothing was stored."
            ) from exc
        return dict(token)

    async def finish(
        self,
        callback_url: str,
        store: TokenStore,
        profile: str | None,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> LoginResult:
        """Check the redirect, trade the code (with the verifier), learn who signed in, then store."""
        code = self.code_from_redirect(callback_url)
        self._used = True
        token = await self.exchange(code, transport=transport)
        request = self.request
        try:
            user = await fetch_user_info(request.endpoints.api_base, str(token["access_token"]), transport=transport)
        except TokenEndpointError as exc:
            raise LoginFailed(f"signed in, but could not learn who you are: {exc}. Nothing was stored.") from exc
        record = TokenRecord.from_token_response(request.credentials.app_id, user.open_id, token, name=user.name)
        name = await anyio.to_thread.run_sync(save_record, store, record, profile)
        warnings = []
        if not record.refresh_token:
            warnings.append(
                "Feishu sent no refresh token (is offline_access enabled for the app?): "
                "you will have to sign in again when the access token expires"
            )
        missing = sorted(set(request.scopes) - set(record.scopes) - {OFFLINE_ACCESS})
        if record.scope and missing:
            warnings.append("not granted: " + " ".join(missing))
        return LoginResult(name, record, tuple(warnings))


async def login_with_browser(
    request: LoginRequest,
    store: TokenStore,
    profile: str | None,
    *,
    port: int,
    announce: Callable[[str], None],
    open_browser: Callable[[str], object] | None,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> LoginResult:
    """Listen on the loopback port, show and open the URL, wait for the redirect, finish."""
    pending = PendingLogin(request)
    async with LoopbackReceiver(port, pending.judge) as receiver:
        announce(pending.url)
        if open_browser is not None:
            open_browser(pending.url)
        callback_url = await receiver.wait(timeout)
    return await pending.finish(callback_url, store, profile, transport=transport)


async def login_with_paste(
    request: LoginRequest,
    store: TokenStore,
    profile: str | None,
    *,
    announce: Callable[[str], None],
    read_redirect: Callable[[], Awaitable[str]],
    transport: httpx2.AsyncBaseTransport | None = None,
) -> LoginResult:
    """For machines without a browser: the user opens the URL elsewhere and pastes where it ended."""
    pending = PendingLogin(request)
    announce(pending.url)
    callback_url = await read_redirect()
    return await pending.finish(callback_url, store, profile, transport=transport)
