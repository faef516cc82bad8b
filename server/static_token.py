"""The pre-obtained user token, in a module of its own: serving with one needs none of the OAuth stack.

(``server.tokens`` imports authlib, whose import costs ~60 ms of CPU at every start.)
"""

from __future__ import annotations

from server.errors import AuthRequired, CannotRenew
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
        raise CannotRenew(
            "sign-in",
            99991677,
            "the user token was rejected and cannot be refreshed",
            # FEISHU_USER_ACCESS_TOKEN beats the store, so a login only helps once it is unset.
            advice="set a new FEISHU_USER_ACCESS_TOKEN, or unset it and run `feishu-calendar-mcp login`",
        )


def env_token(settings: Settings) -> StaticToken | None:
    """FEISHU_USER_ACCESS_TOKEN, which wins over a stored login, or None when it is not set.

    Here rather than in server.tokens so that serving with a set token never imports the OAuth stack.
    """
    static = settings.user_access_token.get_secret_value()
    return StaticToken(static, identity="env") if static else None
