"""Whose Feishu token a request uses: only the subject of the verified bearer token.

The one shared :class:`~server.feishu_client.FeishuClient` asks its token source for "the" user's
token; in team mode the answer depends on the request. The SDK's auth middleware puts the verified
:class:`AccessToken` in a context variable for the request, and this source reads its ``subject``
(never a tool argument, never a header). Auth failures become the same FeishuErrors the tool
boundary already turns into tool errors.
"""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token
from redis.exceptions import RedisError

from auth.errors import AuthError, LoginRequired, ReloginRequired
from auth.grants_redis import SIGN_IN_AGAIN, GrantStoreUnavailable, SharedGrants, subject_hash, unreachable
from server.errors import AuthRequired, FeishuError, UpstreamUnavailable
from server.team.quota import Quota


def current_subject() -> str:
    token = get_access_token()
    if token is None or not token.subject:
        # Only reachable if /mcp were served without the auth middleware: refuse, never guess.
        raise AuthRequired("sign-in", 99991661, "this request carries no verified user", advice=SIGN_IN_AGAIN)
    return token.subject


def _as_feishu_error(exc: AuthError) -> FeishuError:
    if isinstance(exc, GrantStoreUnavailable):
        return UpstreamUnavailable("team-grant-store", -1, exc.reason, advice="retry in a minute")
    if isinstance(exc, (LoginRequired, ReloginRequired)):
        return AuthRequired("sign-in", exc.code or 99991677, exc.reason, advice=SIGN_IN_AGAIN)
    return UpstreamUnavailable("refresh-user-token", exc.code or -1, exc.reason, advice="retry in a minute")


class TeamTokens:
    """The :class:`~server.feishu_auth.TokenSource` of a team-mode replica."""

    def __init__(self, grants: SharedGrants, quota: Quota | None = None) -> None:
        self.grants = grants
        self.quota = quota

    def __repr__(self) -> str:
        return f"TeamTokens({self.grants!r})"

    @property
    def identity(self) -> str:
        # Keys per-user caches (the primary calendar id): the subject's hash, never a token.
        return "team:" + subject_hash(current_subject())

    async def access_token(self) -> str:
        """Once per request to Feishu: the fair-use check, then the caller's token."""
        subject = current_subject()
        if self.quota is not None:
            try:
                await self.quota.check(subject)
            except RedisError as exc:
                raise _as_feishu_error(GrantStoreUnavailable(unreachable(exc))) from exc
        try:
            return await self.grants.access_token(subject)
        except AuthError as exc:
            raise _as_feishu_error(exc) from exc

    async def refresh_after_rejection(self, rejected: str) -> str:
        try:
            return await self.grants.refresh_after_rejection(current_subject(), rejected)
        except AuthError as exc:
            raise _as_feishu_error(exc) from exc
