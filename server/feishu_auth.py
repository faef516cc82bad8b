"""The user's token on each request to Feishu: one ``httpx2.Auth`` per tool-call request.

The Feishu client holds one HTTP client for everyone (in team mode, every user of a replica);
whose token a request carries is decided here, per request, by the :class:`TokenSource` (one
user's stored login, or, in team mode, the verified caller of this MCP request). The flow
attaches the token; when Feishu refuses it as expired or unknown (99991677 / 99991668) it
refreshes once and sends the same request again: the refused request was not executed, so
resending is always safe (feishu-api.md §10.2). A refresh never happens while a request is on
the wire, and :attr:`UserTokenAuth.on_the_wire` tells the request loop which of the two a
timeout interrupted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Protocol

import httpx2

from server.errors import CannotRenew
from server.feishu_envelope import feishu_envelope

# The user token was refused: refresh once and replay once.
TOKEN_REJECTED = frozenset({99991668, 99991677})


class TokenSource(Protocol):
    """Where user tokens come from (implemented in auth/ and server/team/; never a tool argument)."""

    @property
    def identity(self) -> str: ...

    async def access_token(self) -> str: ...

    async def refresh_after_rejection(self, rejected: str) -> str: ...


def token_refused(response: httpx2.Response) -> bool:
    """Whether Feishu refused the request's token (a successful reply never is: not parsed)."""
    return response.status_code >= 400 and (feishu_envelope(response) or {}).get("code") in TOKEN_REJECTED


def _with_refusal(err: CannotRenew, refused: httpx2.Response) -> CannotRenew:
    """A token that cannot be renewed: the error carries Feishu's refusal (its code, words and log id).

    The source's own error knows what to do but not what Feishu said: 99991668 (invalid) read as
    99991677 (expired), and the log id was lost. (A refresh Feishu refused is the source's own
    AuthRequired, with the refresh endpoint's code: it is left as it is.)
    """
    envelope = feishu_envelope(refused) or {}
    code, msg = envelope.get("code"), str(envelope.get("msg") or "").rstrip(".")
    if isinstance(code, int):
        err.code = code
    err.msg = f"{msg}; {err.msg}" if msg else err.msg
    err.log_id = refused.headers.get("x-tt-logid", "")
    return err


class UserTokenAuth(httpx2.Auth):
    """One tool call's token on each of its requests (its attempts share the token)."""

    requires_response_body = True  # the refusal is in the JSON body (read in the flow, errors only)

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens
        self.token = ""
        self.refreshed = False  # the in-flow refresh is spent (one per call)
        self.refused = False  # the loop retries after a fresh token was refused: refresh first
        self.on_the_wire = False

    def __repr__(self) -> str:
        return f"UserTokenAuth({self.tokens!r})"  # never the token

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        raise RuntimeError("the Feishu client is asynchronous")

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        if not self.token:
            self.token = await self.tokens.access_token()
        elif self.refused:
            self.token = await self.tokens.refresh_after_rejection(self.token)
        self.refused = False
        response = yield self._attach(request)
        if response.status_code >= 400 and not self.refreshed:
            await response.aread()  # overriding async_auth_flow skips httpx2's own read
        if not self.refreshed and token_refused(response):
            # The first refusal is not a failed attempt: refresh and send the same request again.
            self.on_the_wire = False
            self.refreshed = True
            try:
                self.token = await self.tokens.refresh_after_rejection(self.token)
            except CannotRenew as err:
                raise _with_refusal(err, response) from None
            # A new request, not the sent one changed: what went out stays as it was (logs, hooks).
            again = httpx2.Request(
                request.method,
                request.url,
                headers=request.headers,
                content=request.content,
                extensions=request.extensions,
            )
            yield self._attach(again)

    def _attach(self, request: httpx2.Request) -> httpx2.Request:
        request.headers["Authorization"] = f"Bearer {self.token}"
        self.on_the_wire = True
        return request
