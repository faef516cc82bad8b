"""Signing a sandbox user in for real (consent, code, PKCE exchange) to get a grant with a refresh token."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token

from auth.oauth import AppCredentials, Endpoints, oauth_client
from auth.record import TokenRecord
from sandbox import Sandbox
from sandbox.app import DEMO_APP_ID, DEMO_APP_SECRET, FEISHU_BASE_URL

CREDENTIALS = AppCredentials(DEMO_APP_ID, DEMO_APP_SECRET)
ENDPOINTS = Endpoints.for_domain(FEISHU_BASE_URL)
REDIRECT = "http://127.0.0.1/callback"
SCOPES = "calendar:calendar.event:read offline_access"


async def sandbox_grant(sb: Sandbox, user: str | None = None, *, now: float) -> TokenRecord:
    """A record as a real sign-in leaves it: the sandbox's consent page, then the code exchange."""
    verifier = generate_token(64)
    async with oauth_client(CREDENTIALS, ENDPOINTS, redirect_uri=REDIRECT, transport=sb.transport()) as client:
        url, _state = client.create_authorization_url(ENDPOINTS.authorize_url, code_verifier=verifier, scope=SCOPES)
        redirect = sb.consent(url, user=user)
        code = dict(parse_qsl(urlsplit(redirect).query))["code"]
        token = await client.fetch_token(ENDPOINTS.token_url, code=code, code_verifier=verifier)
    open_id = user or sb.demo_user.open_id
    return TokenRecord.from_token_response(DEMO_APP_ID, open_id, dict(token), now=now)
