"""One signed-in user's tokens as stored: what they are, when they expire, whose they are."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class TokenRecord:
    """A user's OAuth tokens plus the facts needed to use and refresh them.

    ``repr`` never shows the tokens: records end up in logs and tracebacks.
    """

    app_id: str
    open_id: str
    access_token: str = field(repr=False)
    expires_at: float  # Unix seconds when the access token stops working
    refresh_token: str = field(default="", repr=False)
    refresh_expires_at: float = 0.0  # 0: unknown (Feishu did not say)
    scope: str = ""
    name: str = ""
    obtained_at: float = 0.0

    @classmethod
    def from_token_response(
        cls, app_id: str, open_id: str, token: dict[str, Any], *, now: float | None = None, name: str = ""
    ) -> TokenRecord:
        """Build from a (normalised) token endpoint answer; expiries become absolute times."""
        now = time.time() if now is None else now
        expires_in = float(token.get("expires_in") or 0)
        refresh_in = float(token.get("refresh_token_expires_in") or token.get("refresh_expires_in") or 0)
        return cls(
            app_id=app_id,
            open_id=open_id,
            access_token=str(token["access_token"]),
            expires_at=now + expires_in if expires_in else float(token.get("expires_at") or now),
            refresh_token=str(token.get("refresh_token") or ""),
            refresh_expires_at=now + refresh_in if refresh_in else 0.0,
            scope=str(token.get("scope") or ""),
            name=name,
            obtained_at=now,
        )

    def refreshed(self, token: dict[str, Any], *, now: float | None = None) -> TokenRecord:
        """The record after a refresh; Feishu may omit a new refresh token, then the old one stays."""
        fresh = TokenRecord.from_token_response(self.app_id, self.open_id, token, now=now, name=self.name)
        if not fresh.refresh_token:
            fresh = replace(fresh, refresh_token=self.refresh_token, refresh_expires_at=self.refresh_expires_at)
        return replace(fresh, scope=fresh.scope or self.scope)

    def access_valid(self, leeway: float, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return bool(self.access_token) and self.expires_at - leeway > now

    def can_refresh(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if not self.refresh_token:
            return False
        return self.refresh_expires_at == 0.0 or self.refresh_expires_at > now

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenRecord:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
