"""Team mode's settings, and every key derived from ``FEISHU_TOKEN_KEY``.

One secret ring serves every purpose through HKDF sub-keys (grant sealing, access-token signing,
confirmation-state sealing, the consent cookie), so replicas agree on all of them by sharing one
setting, and rotating it rotates them all (newest key first; older keys still open and verify).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from urllib.parse import urlsplit

from auth.grant_cipher import GrantCipher, derive_key, key_id, parse_keys
from server.team.quota import DEFAULT_KEEPALIVE_LIMITS, DEFAULT_TENANT_LIMITS, DEFAULT_USER_LIMITS, parse_limits

ENV = {
    "public_url": "FEISHU_PUBLIC_URL",
    "redis_url": "FEISHU_REDIS_URL",
    "token_key": "FEISHU_TOKEN_KEY",
    "user_limits": "FEISHU_USER_RATE_LIMIT",
    "tenant_limits": "FEISHU_TENANT_RATE_LIMIT",
    "keepalive": "FEISHU_KEEPALIVE",
    "keepalive_limits": "FEISHU_KEEPALIVE_RATE",
}
ACCESS_TOKEN_TTL = 3600  # our access tokens; refresh tokens rotate on every use
REFRESH_TOKEN_TTL = 30 * 24 * 3600
MCP_PATH = "/mcp"
CALLBACK_PATH = "/oauth/feishu/callback"
CONSENT_PATH = "/consent"
SCOPE = "calendar"  # the one scope our tokens carry; Feishu's scopes are asked for behind it
# The keep-alive refreshes a grant whose Feishu refresh token ends within the window (its lifetime
# is about a week: feishu-api.md §7.2), looking every interval (each replica jitters its own).
KEEPALIVE_WINDOW = 24 * 3600
KEEPALIVE_INTERVAL = 600
_ON, _OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class TeamConfigError(ValueError):  # (quota.QuotaError is one too: both are ValueErrors)
    """A team-mode setting that cannot work, named."""


@dataclass(frozen=True)
class TeamKeys:
    """The key ring, newest first, and what each purpose derives from it."""

    masters: tuple[bytes, ...] = field(repr=False)

    @classmethod
    def from_setting(cls, value: str) -> TeamKeys:
        return cls(tuple(parse_keys(value)))

    def cipher(self) -> GrantCipher:
        return GrantCipher(list(self.masters))

    def signing_keys(self) -> list[tuple[str, bytes]]:
        """(kid, HS256 key) per master; the first signs."""
        return [(key_id(m), derive_key(m, b"feishu-calendar-mcp access token v1")) for m in self.masters]

    def request_state_keys(self) -> list[bytes]:
        return [derive_key(m, b"feishu-calendar-mcp request state v1") for m in self.masters]

    def cookie_tag(self, value: str) -> str:
        """Binds a sign-in transaction to the browser that consented (newest key)."""
        key = derive_key(self.masters[0], b"feishu-calendar-mcp consent cookie v1")
        return hmac.new(key, value.encode(), sha256).hexdigest()


@dataclass(frozen=True)
class TeamConfig:
    public_url: str  # e.g. https://cal.example.com (the issuer; /mcp is the resource)
    redis_url: str
    keys: TeamKeys
    user_limits: str = DEFAULT_USER_LIMITS
    tenant_limits: str = DEFAULT_TENANT_LIMITS
    access_token_ttl: int = ACCESS_TOKEN_TTL
    refresh_token_ttl: int = REFRESH_TOKEN_TTL
    keepalive: bool = True
    keepalive_limits: str = DEFAULT_KEEPALIVE_LIMITS
    keepalive_window: float = KEEPALIVE_WINDOW
    keepalive_interval: float = KEEPALIVE_INTERVAL

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: str | None) -> TeamConfig:
        values = {name: overrides.get(name) or environ.get(env, "") for name, env in ENV.items()}
        public = values["public_url"].rstrip("/")
        parts = urlsplit(public)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise TeamConfigError(
                "--public-url (FEISHU_PUBLIC_URL) must be an https:// origin like https://cal.example.com"
            )
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise TeamConfigError("--public-url (FEISHU_PUBLIC_URL) must be https:// (plain http only on loopback)")
        if not values["redis_url"]:
            raise TeamConfigError("team mode needs --redis-url (FEISHU_REDIS_URL), e.g. redis://redis:6379/0")
        if not values["token_key"]:
            raise TeamConfigError(
                "team mode needs FEISHU_TOKEN_KEY (32 random bytes, URL-safe base64) to seal Feishu grants: "
                "see docs/team-mode.md"
            )
        user = values["user_limits"] or DEFAULT_USER_LIMITS
        tenant = values["tenant_limits"] or DEFAULT_TENANT_LIMITS
        keepalive_limits = values["keepalive_limits"] or DEFAULT_KEEPALIVE_LIMITS
        for text, setting in ((user, "user_limits"), (tenant, "tenant_limits"), (keepalive_limits, "keepalive_limits")):
            parse_limits(text, ENV[setting])
        switch = values["keepalive"].strip().lower() or "on"
        if switch not in _ON | _OFF:
            raise TeamConfigError(f"FEISHU_KEEPALIVE={values['keepalive']!r}: write on or off")
        return cls(
            public,
            values["redis_url"],
            TeamKeys.from_setting(values["token_key"]),
            user,
            tenant,
            keepalive=switch in _ON,
            keepalive_limits=keepalive_limits,
        )

    @property
    def issuer(self) -> str:
        return self.public_url

    @property
    def resource(self) -> str:
        return self.public_url + MCP_PATH

    @property
    def callback_url(self) -> str:
        return self.public_url + CALLBACK_PATH

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def host(self) -> str:
        return urlsplit(self.public_url).netloc
