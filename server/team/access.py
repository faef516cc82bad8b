"""Our access tokens: short-lived JWTs (joserfc, HS256 under a key derived from FEISHU_TOKEN_KEY)
bound to the MCP URL, and the resource server's verifier for them.

A token is accepted only if its signature, ``iss``, ``aud`` (exactly our MCP URL: RFC 8707),
``exp`` and ``sub`` check out, *and* its sign-in family is still active and the user's Feishu
grant does not need re-consent (two Redis reads; while Redis is down those are skipped, as nothing
can reach Feishu then anyway, and the tool call says to retry). A third read gives the request
the caller's own time zone (server/team/zones.py). Anything else, a Feishu token included, is not
ours: the SDK's middleware answers 401 with ``WWW-Authenticate`` pointing at our metadata.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from mcp.server.auth.provider import AccessToken, TokenVerifier
from redis.exceptions import RedisError

from auth.grants_redis import ACTIVE as GRANT_ACTIVE
from auth.grants_redis import RedisGrantStore, subject_hash
from server.state import CALLER_TIMEZONE
from server.team.config import TeamConfig
from server.team.logs import USER
from server.team.records import Records
from server.team.zones import UserZones

log = logging.getLogger("feishu_calendar_mcp.team.access")
ALGORITHM = "HS256"


class AccessTokens:
    """Mints and checks our JWTs (signing keys from the config's key ring; the first signs)."""

    def __init__(self, config: TeamConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        keys = [OctKey.import_key(secret, {"kid": kid}) for kid, secret in config.keys.signing_keys()]
        self._signing = keys[0]
        self._keyset = KeySet(keys)  # type: ignore[arg-type]

    def mint(self, *, subject: str, client_id: str, scopes: list[str], family: str) -> tuple[str, int]:
        now = int(self.clock())
        claims = {
            "iss": self.config.issuer,
            "aud": self.config.resource,
            "sub": subject,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "fam": family,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self.config.access_token_ttl,
        }
        header = {"alg": ALGORITHM, "kid": self._signing.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._signing, algorithms=[ALGORITHM]), self.config.access_token_ttl

    def claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is ours, for us, unexpired and complete; else None."""
        try:
            decoded = jwt.decode(token, self._keyset, algorithms=[ALGORITHM])
            registry = jwt.JWTClaimsRegistry(
                now=int(self.clock()),
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.resource},
                sub={"essential": True},
                exp={"essential": True},
                fam={"essential": True},
                client_id={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            log.debug("refused a bearer token: %s", type(exc).__name__)
            return None
        return dict(decoded.claims)


class TeamTokenVerifier(TokenVerifier):
    """The resource server's check of every request's bearer token."""

    def __init__(
        self, tokens: AccessTokens, records: Records, grants: RedisGrantStore, zones: UserZones | None = None
    ) -> None:
        self.tokens = tokens
        self.records = records
        self.grants = grants
        self.zones = zones

    async def verify_token(self, token: str) -> AccessToken | None:
        claims = self.tokens.claims(token)
        if claims is None:
            return None
        try:
            if not await self.records.family_active(str(claims["fam"])):
                log.debug("refused a token of a revoked sign-in")
                return None
            if await self.grants.status(str(claims["sub"])) != GRANT_ACTIVE:
                log.debug("refused a token whose Feishu grant needs re-consent")
                return None
            if self.zones is not None:
                # The caller's zone for this request: what every tool reads naive times in.
                CALLER_TIMEZONE.set(await self.zones.effective(str(claims["sub"])))
        except RedisError:
            # Without Redis no Feishu token can be read either, so a well-signed token grants
            # nothing more than a clear "retry in a minute" from the tool; a 401 here would send
            # every client into a sign-in that cannot work until Redis is back.
            log.warning("Redis unreachable: accepting a well-signed token unchecked (its calls will fail)")
        USER.set(subject_hash(str(claims["sub"])))  # for the logs: who, as a hash
        return as_access_token(token, claims)


def as_access_token(token: str, claims: dict[str, Any]) -> AccessToken:
    """The SDK's view of one of our verified tokens (the subject is the Feishu user)."""
    return AccessToken(
        token=token,
        client_id=str(claims["client_id"]),
        scopes=str(claims.get("scope", "")).split(),
        expires_at=int(claims["exp"]),
        resource=str(claims["aud"]),
        subject=str(claims["sub"]),
        claims={"iss": claims["iss"], "fam": claims["fam"]},
    )
