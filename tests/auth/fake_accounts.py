"""A minimal Feishu accounts host for unit tests of the auth package (httpx2.MockTransport).

The sandbox (tests/auth/test_oauth_sandbox.py) is the full emulator; this fake exists so the
auth package's own rules can be checked in isolation: PKCE S256, single-use codes, rotating
single-use refresh tokens, and Feishu's error shape ``{code, error, error_description}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

APP_ID = "cli_unit_app"
APP_SECRET = "unit-app-secret-0123456789"
OPEN_ID = "ou_unit_user"


@dataclass
class FakeAccounts:
    now: float = field(default_factory=time.time)
    access_lifetime: float = 7200
    refresh_lifetime: float = 604800
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, bool] = field(default_factory=dict)  # token -> still usable
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    token_grants: dict[str, int] = field(default_factory=dict)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    next_error: tuple[int, int, str] | None = None  # (http status, code, error) for the next token call
    on_token_request: Callable[[], None] | None = None  # called as each token request arrives

    def approve(self, authorize_url: str, *, deny: bool = False) -> str:
        """Play the consent page: the redirect the browser would follow."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        if deny:
            return f"{query['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': query['state']})}"
        code = secrets.token_urlsafe(24)
        self.codes[code] = query
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/open-apis/authen/v1/user_info":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if self.access_tokens.get(token, 0) <= self.now:
                return httpx2.Response(401, json={"code": 99991677, "msg": "token expired"})
            return httpx2.Response(200, json={"code": 0, "data": {"open_id": OPEN_ID, "name": "Unit User"}})
        body = json.loads(request.content)
        self.bodies.append(body)
        if self.on_token_request is not None:
            self.on_token_request()
        if self.next_error is not None:
            status, code, error = self.next_error
            self.next_error = None
            return self._error(status, code, error)
        if body.get("client_id") != APP_ID or body.get("client_secret") != APP_SECRET:
            return self._error(400, 20002, "invalid_client")
        grant = body.get("grant_type")
        self.token_grants[grant] = self.token_grants.get(grant, 0) + 1
        if grant == "authorization_code":
            asked = self.codes.pop(body.get("code", ""), None)
            if asked is None:
                return self._error(400, 20003, "invalid_grant")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(body.get("code_verifier", "").encode()).digest())
            if challenge.rstrip(b"=").decode() != asked["code_challenge"]:
                return self._error(400, 20049, "invalid_grant")
            if body.get("redirect_uri") != asked["redirect_uri"]:
                return self._error(400, 20071, "invalid_grant")
            return self._issue(asked.get("scope", ""))
        if grant == "refresh_token":
            token = body.get("refresh_token", "")
            if token not in self.refresh_tokens:
                return self._error(400, 20026, "invalid_grant")
            if not self.refresh_tokens[token]:
                return self._error(400, 20073, "invalid_grant")
            self.refresh_tokens[token] = False
            return self._issue("calendar:calendar.event:read offline_access")
        return self._error(400, 20036, "unsupported_grant_type")

    def _issue(self, scope: str) -> httpx2.Response:
        access, refresh = "u-" + secrets.token_urlsafe(30), "ur-" + secrets.token_urlsafe(30)
        self.access_tokens[access] = self.now + self.access_lifetime
        self.refresh_tokens[refresh] = True
        return httpx2.Response(
            200,
            json={
                "code": 0,
                "access_token": access,
                "expires_in": self.access_lifetime,
                "refresh_token": refresh,
                "refresh_token_expires_in": self.refresh_lifetime,
                "token_type": "Bearer",
                "scope": scope,
            },
        )

    @staticmethod
    def _error(status: int, code: int, error: str) -> httpx2.Response:
        return httpx2.Response(status, json={"code": code, "error": error, "error_description": f"fake {code}"})
