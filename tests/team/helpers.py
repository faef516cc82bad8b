"""Signing a sandbox user in for real (consent, code, PKCE exchange) to get a grant with a refresh token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token
from redis.asyncio import Redis

from auth.grants_redis import text
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


async def every_value(redis: Redis) -> list[bytes]:
    """Every key and every value Redis holds, whatever its type."""
    found: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        found.append(raw(key))
        kind = text(await redis.type(key))
        if kind == "string":
            found.append(raw(await redis.get(key) or b""))
        elif kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                found += [raw(field), raw(value)]
        elif kind == "list":  # the rate limiter's moving windows (timestamps)
            found += [raw(item) for item in await redis.lrange(key, 0, -1)]
        elif kind == "zset":  # the keep-alive's index: grant keys and when their refresh tokens end
            entries: Any = await redis.zrange(key, 0, -1, withscores=True)  # [(member, score)]
            found += [raw(member) + b" " + repr(score).encode() for member, score in entries]
        else:
            raise AssertionError(f"unexpected {kind} at {key!r}")
    return found


def raw(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def assert_no_secret(values: list[bytes], secrets: list[str]) -> None:
    for secret in secrets:
        # Any 12-character slice would be a leak, not just the whole token.
        pieces = {secret[i : i + 12] for i in range(0, max(1, len(secret) - 11), 6)}
        for value in values:
            for piece in pieces:
                assert piece.encode() not in value, "a token fragment is stored in clear"
