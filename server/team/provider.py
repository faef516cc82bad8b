"""The authorization server behind the SDK's handlers (``create_auth_routes``).

The SDK's handlers parse and validate every request (PKCE S256 only, redirect URIs, client
authentication, grant types); this provider keeps the state in Redis (:mod:`server.team.records`)
and decides: which clients exist (dynamic registration, or a metadata document fetched from an
HTTPS client_id), that ``resource`` names our MCP URL, where the browser goes next (our consent
page), and what tokens a code or a refresh token is worth. Refresh tokens rotate; presenting one a
second time revokes the whole sign-in (its family), access tokens included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx2
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from auth.grants_redis import ACTIVE as GRANT_ACTIVE
from auth.grants_redis import RedisGrantStore, subject_hash
from server.team import cimd
from server.team.access import AccessTokens, as_access_token
from server.team.config import CONSENT_PATH, TeamConfig
from server.team.records import Records, RefreshRecord, Transaction, new_secret

log = logging.getLogger("feishu_calendar_mcp.team.oauth")


class TeamRefreshToken(RefreshToken):
    family: str


class TeamProvider:
    """``OAuthAuthorizationServerProvider`` for team mode (a Protocol: implemented structurally)."""

    def __init__(
        self,
        config: TeamConfig,
        records: Records,
        grants: RedisGrantStore,
        tokens: AccessTokens,
        *,
        cimd_transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.records = records
        self.grants = grants
        self.tokens = tokens
        self.cimd_transport = cimd_transport
        self.clock = clock

    # -- clients --------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        document = await self.records.get_client(client_id)
        if document is not None:
            return OAuthClientInformationFull.model_validate(document)
        if not cimd.is_metadata_url(client_id):
            return None
        try:
            info = await cimd.fetch_client(client_id, transport=self.cimd_transport)
        except cimd.MetadataDocumentError as exc:
            log.info("client metadata document refused: %s", exc)
            return None
        await self.records.put_client(client_id, cimd.cache_document(info), ttl=cimd.CACHE_TTL)
        return info

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        if client_info.client_id is None:
            raise ValueError("the registration handler assigns a client_id")
        await self.records.put_client(client_info.client_id, client_info.model_dump(mode="json", exclude_none=True))
        log.info("registered client %s (%s)", client_info.client_id, client_info.client_name or "unnamed")

    # -- authorization ----------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        resource = (params.resource or self.config.resource).rstrip("/")
        if resource != self.config.resource:
            raise AuthorizeError("invalid_target", f"this server issues tokens only for {self.config.resource}")
        handle = new_secret()
        await self.records.put_transaction(
            handle,
            Transaction(
                client_id=client.client_id or "",
                client_name=client.client_name or "",
                redirect_uri=str(params.redirect_uri),
                redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
                code_challenge=params.code_challenge,
                state=params.state,
                scopes=params.scopes or [],
                resource=resource,
            ),
        )
        return f"{self.config.public_url}{CONSENT_PATH}?{urlencode({'txn': handle})}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        record = await self.records.get_code(authorization_code)
        if record is None or record.client_id != client.client_id:
            return None
        return AuthorizationCode(
            code=authorization_code,
            scopes=record.scopes,
            expires_at=record.expires_at,
            client_id=record.client_id,
            code_challenge=record.code_challenge,
            redirect_uri=record.redirect_uri,
            redirect_uri_provided_explicitly=record.redirect_uri_provided_explicitly,
            resource=record.resource,
            subject=record.subject,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        record = await self.records.get_code(authorization_code.code, consume=True)
        if record is None:  # single use: a second exchange (or a race) finds nothing
            raise TokenError("invalid_grant", "the authorization code was already used")
        return await self._issue(record.client_id, record.subject, record.scopes, new_secret())

    # -- refresh ------------------------------------------------------------------------------------

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> TeamRefreshToken | None:
        record = await self.records.get_refresh(refresh_token)
        if record is None or record.client_id != client.client_id:
            return None
        return TeamRefreshToken(
            token=refresh_token,
            client_id=record.client_id,
            scopes=record.scopes,
            expires_at=record.expires_at,
            resource=record.resource,
            subject=record.subject,
            family=record.family,
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: TeamRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        ttl = self.config.refresh_token_ttl
        if not await self.records.spend_refresh(refresh_token.token, ttl):
            # Presented twice: someone holds a copy. End the whole sign-in, access tokens too.
            await self.records.revoke_family(refresh_token.family, ttl)
            log.warning(
                "refresh token reused: revoked the sign-in of user %s", subject_hash(refresh_token.subject or "")
            )
            raise TokenError("invalid_grant", "refresh token already used; the sign-in was revoked, sign in again")
        if not await self.records.family_active(refresh_token.family):
            raise TokenError("invalid_grant", "this sign-in was revoked; sign in again")
        subject = refresh_token.subject or ""
        if await self.grants.status(subject) != GRANT_ACTIVE:
            raise TokenError("invalid_grant", "the Feishu sign-in behind this token needs consent again; sign in again")
        return await self._issue(refresh_token.client_id, subject, scopes, refresh_token.family)

    async def _issue(self, client_id: str, subject: str, scopes: list[str], family: str) -> OAuthToken:
        access, expires_in = self.tokens.mint(subject=subject, client_id=client_id, scopes=scopes, family=family)
        refresh = new_secret()
        ttl = self.config.refresh_token_ttl
        record = RefreshRecord(client_id, subject, scopes, self.config.resource, family, int(self.clock()) + ttl)
        await self.records.put_refresh(refresh, record, ttl)
        return OAuthToken(
            access_token=access,
            token_type="Bearer",  # noqa: S106 (a token type, not a secret)
            expires_in=expires_in,
            scope=" ".join(scopes) or None,
            refresh_token=refresh,
        )

    # -- access tokens and revocation ----------------------------------------------------------------

    async def load_access_token(self, token: str) -> AccessToken | None:
        claims = self.tokens.claims(token)
        if claims is None or not await self.records.family_active(str(claims["fam"])):
            return None
        return as_access_token(token, claims)

    async def revoke_token(self, token: AccessToken | TeamRefreshToken) -> None:
        family = token.family if isinstance(token, TeamRefreshToken) else str((token.claims or {}).get("fam", ""))
        if family:
            await self.records.revoke_family(family, self.config.refresh_token_ttl)
