"""Feishu's OAuth endpoints, spoken through Authlib's AsyncOAuth2Client (which runs on httpx2).

Feishu's token endpoint takes JSON with the client id and secret in the body (no Basic header:
both together give 20070) and answers flat ``{code, access_token, ...}`` or
``{code, error, error_description}``. Every error becomes a :class:`TokenEndpointError` that
names Feishu's code and what it means, before Authlib parses anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client

from auth.errors import REDIRECT_CODES, TOKEN_ERROR_MEANINGS, TokenEndpointError, redirect_advice

# Hosts per brand (feishu-api.md §7.1, §7.2, §8). Lark's v3 token URL is by analogy: UNVERIFIED.
BRANDS: dict[str, tuple[str, str, str]] = {
    "feishu": (
        "https://accounts.feishu.cn/open-apis/authen/v1/authorize",
        "https://accounts.feishu.cn/oauth/v3/token",
        "https://open.feishu.cn",
    ),
    "lark": (
        "https://accounts.larksuite.com/open-apis/authen/v1/authorize",
        "https://accounts.larksuite.com/oauth/v3/token",
        "https://open.larksuite.com",
    ),
}
USER_INFO_PATH = "/open-apis/authen/v1/user_info"
_AUTH_METHOD = "feishu_json_body"


@dataclass(frozen=True)
class Endpoints:
    """Where to send the browser, where to trade codes for tokens, and the API host for user_info."""

    authorize_url: str
    token_url: str
    api_base: str

    @classmethod
    def for_domain(cls, domain: str, *, authorize_url: str | None = None, token_url: str | None = None) -> Endpoints:
        """Feishu or Lark by name; a base URL (private deployment, sandbox) serves all three paths."""
        if domain in BRANDS:
            default_authorize, default_token, api_base = BRANDS[domain]
        else:
            api_base = domain.rstrip("/")
            default_authorize = api_base + "/open-apis/authen/v1/authorize"
            default_token = api_base + "/oauth/v3/token"
        return cls(authorize_url or default_authorize, token_url or default_token, api_base)


@dataclass(frozen=True)
class AppCredentials:
    """The app's id and secret; held in memory only, never written to a token store."""

    app_id: str
    app_secret: str = field(repr=False)


def _json_body_auth(client: Any, method: str, uri: str, headers: Any, body: Any) -> tuple[str, Any, str]:
    """Authlib client-auth hook: Feishu wants the form fields plus id and secret as one JSON object."""
    text = body.decode() if isinstance(body, bytes) else (body or "")
    form = dict(parse_qsl(text, keep_blank_values=True))
    form.update(client_id=client.client_id, client_secret=client.client_secret)
    encoded = json.dumps(form)
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["Content-Length"] = str(len(encoded.encode()))
    return uri, headers, encoded


def describe_token_error(code: int, error: str, description: str, redirect_uri: str = "") -> str:
    """One sentence for a token-endpoint failure; never echoes the request."""
    meaning = TOKEN_ERROR_MEANINGS.get(code)
    if meaning and code in REDIRECT_CODES and redirect_uri:
        meaning = f"{meaning}: {redirect_advice(redirect_uri)}"
    label = f"Feishu code {code}" if code else (error or "error")
    if meaning:
        return f"{label}: {meaning}"
    return f"{label}: {error or 'error'}" + (f" ({description})" if description else "")


def _checked(response: httpx2.Response, redirect_uri: str = "") -> httpx2.Response:
    """Authlib response hook: raise our error for anything but a clean token answer."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TokenEndpointError(
            f"the token endpoint answered HTTP {response.status_code} without a JSON object",
            status=response.status_code,
        )
    code = int(data.get("code") or 0)
    error = str(data.get("error") or "")
    if code or error or response.status_code >= 400 or "access_token" not in data:
        description = str(data.get("error_description") or data.get("msg") or "")
        raise TokenEndpointError(
            describe_token_error(code, error, description, redirect_uri),
            code=code,
            error=error,
            status=response.status_code,
        )
    return response


def oauth_client(
    credentials: AppCredentials,
    endpoints: Endpoints,
    *,
    redirect_uri: str | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    timeout: float = 20.0,
) -> AsyncOAuth2Client:
    """An Authlib client set up for Feishu: PKCE S256, JSON body auth, strict error checks.

    Scopes go to ``create_authorization_url`` rather than here, so a refresh never narrows them.
    """
    client = AsyncOAuth2Client(
        client_id=credentials.app_id,
        client_secret=credentials.app_secret,
        token_endpoint_auth_method=_AUTH_METHOD,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint=endpoints.token_url,
        transport=transport,
        timeout=timeout,
    )
    client.register_client_auth_method((_AUTH_METHOD, _json_body_auth))
    client.register_compliance_hook("access_token_response", lambda r: _checked(r, redirect_uri or ""))
    client.register_compliance_hook("refresh_token_response", _checked)
    return client


async def refresh_grant(
    credentials: AppCredentials,
    endpoints: Endpoints,
    refresh_token: str,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """One refresh_token grant; returns the raw token answer (new access and refresh tokens)."""
    async with oauth_client(credentials, endpoints, transport=transport) as client:
        try:
            token = await client.refresh_token(endpoints.token_url, refresh_token=refresh_token)
        except httpx2.TransportError as exc:
            raise TokenEndpointError(
                f"could not reach the token endpoint {endpoints.token_url} ({type(exc).__name__})"
            ) from exc
    return dict(token)


@dataclass(frozen=True)
class UserInfo:
    open_id: str
    name: str
    tenant_key: str = ""


async def fetch_user_info(
    api_base: str, access_token: str, *, transport: httpx2.AsyncBaseTransport | None = None
) -> UserInfo:
    """Who the token belongs to (GET /open-apis/authen/v1/user_info)."""
    async with httpx2.AsyncClient(base_url=api_base, transport=transport, timeout=20.0) as http:
        try:
            response = await http.get(USER_INFO_PATH, headers={"Authorization": f"Bearer {access_token}"})
        except httpx2.TransportError as exc:
            raise TokenEndpointError(f"could not reach {api_base} ({type(exc).__name__})") from exc
    try:
        envelope = response.json()
    except ValueError:
        envelope = {}
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict) or envelope.get("code") or not data.get("open_id"):
        code = int(envelope.get("code") or 0) if isinstance(envelope, dict) else 0
        msg = str(envelope.get("msg") or "") if isinstance(envelope, dict) else ""
        raise TokenEndpointError(
            f"user_info failed: HTTP {response.status_code}, Feishu code {code} {msg}".rstrip(),
            code=code,
            status=response.status_code,
        )
    return UserInfo(str(data["open_id"]), str(data.get("name") or ""), str(data.get("tenant_key") or ""))
