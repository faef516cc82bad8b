"""The authorization server's state in Redis: clients, sign-in transactions, codes, refresh tokens.

Tokens and codes are stored only as their SHA-256 (a dump of Redis cannot be replayed); records
that hold a secret (a registered client's secret, our PKCE verifier towards Feishu) are sealed
with the grant cipher. Each refresh token belongs to a *family* (one client's sign-in of one
user): rotation keeps the family, a reused refresh token revokes it, and every access token of a
revoked family stops working at once (the verifier reads the family's status).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from auth.grant_cipher import GrantCipher
from auth.grants_redis import text

CLIENT = "fcm:client:"
TXN = "fcm:txn:"
CODE = "fcm:code:"
REFRESH = "fcm:rt:"
REFRESH_USED = "fcm:rt-used:"
FAMILY = "fcm:family:"
TXN_TTL = 600
CODE_TTL = 300
ACTIVE = "active"
REVOKED = "revoked"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Transaction:
    """One sign-in in flight: the MCP client's request, then our PKCE verifier towards Feishu."""

    client_id: str
    client_name: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None
    scopes: list[str]
    resource: str
    feishu_verifier: str = ""
    timezone: str | None = None  # picked on the consent page: "" automatic, None not said (keep the stored)


@dataclass
class CodeRecord:
    client_id: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    scopes: list[str]
    resource: str
    subject: str
    expires_at: float


@dataclass
class RefreshRecord:
    client_id: str
    subject: str
    scopes: list[str]
    resource: str
    family: str
    expires_at: int


class Records:
    def __init__(self, redis: Redis, cipher: GrantCipher) -> None:
        self.redis = redis
        self.cipher = cipher

    # -- clients (dynamic registration and cached metadata documents) --------------------------

    async def put_client(self, client_id: str, document: dict[str, Any], ttl: int | None = None) -> None:
        sealed = self.cipher.seal(json.dumps(document).encode(), f"client:{client_id}")
        await self.redis.set(CLIENT + digest(client_id), sealed, ex=ttl)

    async def get_client(self, client_id: str) -> dict[str, Any] | None:
        sealed = await self.redis.get(CLIENT + digest(client_id))
        if sealed is None:
            return None
        document: dict[str, Any] = json.loads(self.cipher.open(text(sealed), f"client:{client_id}"))
        return document

    # -- sign-in transactions (single use) ------------------------------------------------------

    async def put_transaction(self, handle: str, txn: Transaction) -> None:
        sealed = self.cipher.seal(json.dumps(asdict(txn)).encode(), f"txn:{digest(handle)}")
        await self.redis.set(TXN + digest(handle), sealed, ex=TXN_TTL)

    async def get_transaction(self, handle: str, *, consume: bool = False) -> Transaction | None:
        key = TXN + digest(handle)
        sealed = await (self.redis.getdel(key) if consume else self.redis.get(key))
        if sealed is None:
            return None
        return Transaction(**json.loads(self.cipher.open(text(sealed), f"txn:{digest(handle)}")))

    # -- authorization codes (single use) -------------------------------------------------------

    async def put_code(self, code: str, record: CodeRecord) -> None:
        await self.redis.set(CODE + digest(code), json.dumps(asdict(record)), ex=CODE_TTL)

    async def get_code(self, code: str, *, consume: bool = False) -> CodeRecord | None:
        key = CODE + digest(code)
        raw = await (self.redis.getdel(key) if consume else self.redis.get(key))
        return CodeRecord(**json.loads(raw)) if raw is not None else None

    # -- refresh tokens and their families ------------------------------------------------------

    async def put_refresh(self, token: str, record: RefreshRecord, ttl: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(REFRESH + digest(token), json.dumps(asdict(record)), ex=ttl)
            # A new family starts active; a rotation only renews its lifetime (never un-revokes it).
            pipe.set(FAMILY + record.family, ACTIVE, ex=ttl, nx=True)
            pipe.expire(FAMILY + record.family, ttl)
            await pipe.execute()

    async def get_refresh(self, token: str) -> RefreshRecord | None:
        raw = await self.redis.get(REFRESH + digest(token))
        return RefreshRecord(**json.loads(raw)) if raw is not None else None

    async def spend_refresh(self, token: str, ttl: int) -> bool:
        """Mark ``token`` used; False if it already was (a replay: the caller revokes the family)."""
        return bool(await self.redis.set(REFRESH_USED + digest(token), "1", nx=True, ex=ttl))

    async def family_active(self, family: str) -> bool:
        value = await self.redis.get(FAMILY + family)
        return value is not None and text(value) == ACTIVE

    async def revoke_family(self, family: str, ttl: int) -> None:
        await self.redis.set(FAMILY + family, REVOKED, ex=ttl)
