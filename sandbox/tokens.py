"""The token endpoint's two grants and their rules (feishu-api.md §7.2).

* ``authorization_code``: the code must exist (20003), belong to the client (20024), be unused
  (20065) and unexpired (20004); ``redirect_uri``, if sent, must match the authorize call (20071);
  PKCE: the verifier must match the challenge (20049); v3 also refuses a verifier for a code that
  had no challenge. ``scope`` may narrow the grant (20067 duplicate, 20068 not granted).
* ``refresh_token``: only with ``offline_access``; single-use (20073 reused), rotating, revoked
  (20064), expired (20037, also 365 days after consent), unknown or foreign (20026 / 20024), and
  the app's refresh switch must be on (20074).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from sandbox import access
from sandbox.state import App, RefreshToken

if TYPE_CHECKING:
    from sandbox.core import Core

OFFLINE = "offline_access"
REAUTHORIZE_AFTER = 365 * 24 * 3600


class OAuthFault(Exception):
    """A token-endpoint failure: ``{code, error, error_description}`` with HTTP 400 (or 5xx)."""

    def __init__(self, code: int, error: str, description: str, http_status: int = 400) -> None:
        super().__init__(f"{code} {error}: {description}")
        self.code = code
        self.error = error
        self.description = description
        self.http_status = http_status


def client_app(sb: Core, fields: dict[str, str]) -> App:
    client_id = fields.get("client_id")
    secret = fields.get("client_secret")
    if not client_id or not secret:
        raise OAuthFault(20001, "invalid_request", "client_id and client_secret are required")
    app = sb.world.apps.get(client_id)
    if app is None:
        raise OAuthFault(20048, "invalid_client", "the app does not exist")
    if app.app_secret != secret:
        raise OAuthFault(20002, "invalid_client", "the client secret is wrong")
    return app


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise OAuthFault(20001, "invalid_request", f"{name} is required")
    return value


def exchange_code(sb: Core, fields: dict[str, str], *, v3: bool) -> dict[str, Any]:
    app = client_app(sb, fields)
    code = sb.world.codes.get(_required(fields, "code"))
    if code is None:
        raise OAuthFault(20003, "invalid_grant", "the authorization code was not found")
    if code.app_id != app.app_id:
        raise OAuthFault(20024, "invalid_grant", "the code belongs to another app")
    if code.used:
        raise OAuthFault(20065, "invalid_grant", "the authorization code has already been used")
    if code.expires_at <= sb.clock.now():
        raise OAuthFault(20004, "invalid_grant", "the authorization code has expired")
    redirect_uri = fields.get("redirect_uri")
    if redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise OAuthFault(20071, "invalid_grant", "redirect_uri does not match the authorization request")
    verifier = fields.get("code_verifier")
    if code.code_challenge is not None:
        if not verifier:
            raise OAuthFault(20049, "invalid_grant", "code_verifier is required (PKCE)")
        if not _valid_verifier(verifier) or not _pkce(verifier, code.code_challenge, code.code_challenge_method):
            raise OAuthFault(20049, "invalid_grant", "PKCE verification failed")
    elif verifier and v3:
        raise OAuthFault(20049, "invalid_grant", "code_verifier sent but the authorization had no code_challenge")
    code.used = True
    scopes = narrow(code.scopes, fields.get("scope"))
    return _issue(sb, app, code.open_id, scopes, authorized_at=sb.clock.now())


def refresh(sb: Core, fields: dict[str, str]) -> dict[str, Any]:
    app = client_app(sb, fields)
    value = _required(fields, "refresh_token")
    if not app.allow_refresh:
        raise OAuthFault(20074, "unauthorized_client", "the app is not allowed to refresh user tokens")
    old = sb.world.refresh_tokens.get(value)
    if old is None:
        raise OAuthFault(20026, "invalid_grant", "the refresh token is invalid")
    if old.app_id != app.app_id:
        raise OAuthFault(20024, "invalid_grant", "the refresh token belongs to another app")
    if old.revoked:
        raise OAuthFault(20064, "invalid_grant", "the refresh token has been revoked")
    if old.used:
        raise OAuthFault(20073, "invalid_grant", "the refresh token has already been used")
    now = sb.clock.now()
    if old.expires_at <= now or now - old.authorized_at >= REAUTHORIZE_AFTER:
        raise OAuthFault(20037, "invalid_grant", "the refresh token has expired; the user must authorize again")
    old.used = True
    scopes = narrow(old.scopes, fields.get("scope"))
    return _issue(sb, app, old.open_id, scopes, authorized_at=old.authorized_at)


def revoke_refresh_tokens(sb: Core, open_id: str | None = None) -> int:
    """Revoke (as the user or an admin would) every live refresh token, or one user's; the count."""
    revoked = 0
    for token in sb.world.refresh_tokens.values():
        if (open_id is None or token.open_id == open_id) and not token.revoked and not token.used:
            token.revoked = True
            revoked += 1
    return revoked


def narrow(granted: frozenset[str], requested: str | None) -> frozenset[str]:
    if requested is None or not requested.strip():
        return granted
    asked = requested.split()
    if len(set(asked)) != len(asked):
        raise OAuthFault(20067, "invalid_scope", "the scope list has duplicates")
    missing = [s for s in asked if s not in granted]
    if missing:
        raise OAuthFault(20068, "invalid_scope", f"scopes not granted by the user: {' '.join(missing)}")
    return frozenset(asked)


def _issue(sb: Core, app: App, open_id: str, scopes: frozenset[str], *, authorized_at: float) -> dict[str, Any]:
    now = sb.clock.now()
    token = access.mint_access_token(sb.world, now, app.app_id, open_id, scopes, access.ACCESS_TOKEN_LIFETIME)
    reply: dict[str, Any] = {
        "access_token": token.token,
        "expires_in": access.ACCESS_TOKEN_LIFETIME,
        "token_type": "Bearer",
        "scope": " ".join(sorted(scopes)),
    }
    if OFFLINE in scopes:
        lifetime = min(access.REFRESH_TOKEN_LIFETIME, authorized_at + REAUTHORIZE_AFTER - now)
        refresh_token = RefreshToken(
            token=access.new_secret("ur-"),
            app_id=app.app_id,
            open_id=open_id,
            scopes=scopes,
            expires_at=now + lifetime,
            authorized_at=authorized_at,
        )
        sb.world.refresh_tokens[refresh_token.token] = refresh_token
        reply["refresh_token"] = refresh_token.token
        reply["refresh_token_expires_in"] = int(lifetime)
    return reply


def _valid_verifier(verifier: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return 43 <= len(verifier) <= 128 and set(verifier) <= allowed


def _pkce(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
        return secrets.compare_digest(digest, challenge)
    return secrets.compare_digest(verifier, challenge)
