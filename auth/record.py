"""One signed-in user's tokens as stored: what they are, when they expire, whose they are."""

from __future__ import annotations

import math
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
    def from_json(cls, data: object) -> TokenRecord:
        """The record stored as ``data``; ValueError says which field is wrong (never its value)."""
        if not isinstance(data, dict):
            raise ValueError(f"it is {json_kind(data)}, not an object")
        for name in _REQUIRED:
            if name not in data or (name in _IDS and data[name] == ""):
                raise ValueError(f"{name} is missing")
        for name in _TEXT:
            if name in data and not isinstance(data[name], str):
                raise ValueError(f"{name} is {json_kind(data[name])}, not text")
        for name in _TIMES:
            value = data.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} is {json_kind(value)}, not a time in seconds")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


_IDS = ("app_id", "open_id")
_REQUIRED = (*_IDS, "access_token", "expires_at")
_TEXT = ("app_id", "open_id", "access_token", "refresh_token", "scope", "name")
_TIMES = ("expires_at", "refresh_expires_at", "obtained_at")


def json_kind(value: object) -> str:
    """What a JSON value is, without showing it (it could be a token)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    kinds = {bool: "true/false", str: "text", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return kinds.get(type(value), "null" if value is None else type(value).__name__)
