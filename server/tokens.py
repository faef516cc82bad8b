"""Token sources the server can run with before (or without) the stored OAuth login."""

from __future__ import annotations

from server.errors import AuthRequired
from server.settings import Settings


class StaticToken:
    """A pre-obtained user token (FEISHU_USER_ACCESS_TOKEN, or the sandbox's demo token).

    It cannot be refreshed: when Feishu rejects it, the user has to provide a new one.
    """

    def __init__(self, token: str, identity: str = "static") -> None:
        self._token = token
        self.identity = identity

    def __repr__(self) -> str:
        return f"StaticToken(identity={self.identity!r})"

    async def access_token(self) -> str:
        if not self._token:
            raise AuthRequired(
                "sign-in",
                99991661,
                "no user token configured",
                advice="run `feishu-calendar-mcp login` or set FEISHU_USER_ACCESS_TOKEN",
            )
        return self._token

    async def refresh_after_rejection(self, rejected: str) -> str:
        raise AuthRequired(
            "sign-in",
            99991677,
            "the user token was rejected and cannot be refreshed",
            advice="run `feishu-calendar-mcp login` or set a new FEISHU_USER_ACCESS_TOKEN",
        )


def token_source(settings: Settings) -> StaticToken:
    """The user token the server acts with: FEISHU_USER_ACCESS_TOKEN until a login is stored."""
    return StaticToken(settings.user_access_token.get_secret_value(), identity="env")
