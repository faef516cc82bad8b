"""A signed-in user's access token, kept fresh without ever spending a refresh token twice.

Feishu refresh tokens work once, so two refreshes of one user at the same time log the user
out (20073). :class:`UserTokens` refreshes before expiry (``leeway``), one refresh at a time
in the process (an anyio lock) and across processes (the store's file lock). Inside the lock it
re-reads the store: if another process already refreshed, it takes that token instead of
refreshing again. The rotated refresh token is written to the store before the new access token
is handed out, so a crash right after a refresh cannot lose the login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
import httpx2

from auth.errors import (
    DEAD_REFRESH_CODES,
    LOGOUT,
    TOKEN_ERROR_MEANINGS,
    AuthError,
    LoginRequired,
    ReloginRequired,
    StoreDamaged,
    StoreError,
    TokenEndpointError,
)
from auth.oauth import AppCredentials, Endpoints, refresh_grant
from auth.record import TokenRecord
from auth.store import StoreData, StoreTransaction, TokenStore

log = logging.getLogger("feishu_calendar_mcp.auth")
DEFAULT_LEEWAY = 300.0  # refresh five minutes before Feishu would refuse the token


class UserTokens:
    """The token source for one profile of one store (see server/tokens.py for its use)."""

    def __init__(
        self,
        store: TokenStore,
        credentials: AppCredentials,
        endpoints: Endpoints,
        profile: str | None,
        *,
        login_command: str,
        logout_command: str = LOGOUT,
        leeway: float = DEFAULT_LEEWAY,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.endpoints = endpoints
        self.profile = profile
        self.login_command = login_command
        self.logout_command = logout_command
        self.leeway = leeway
        self.transport = transport
        self.clock = clock
        self._lock = anyio.Lock()
        self._open_id = ""

    def __repr__(self) -> str:
        return f"UserTokens(profile={self.profile!r}, store={self.store.description!r})"

    @property
    def identity(self) -> str:
        """Whose calendar this is: app and open_id once known, else the profile name."""
        if not self._open_id:
            # Read once, synchronously (a small local file), so the first call already keys by user.
            try:
                record = self.store.read().record(self.profile)
            except AuthError:
                record = None
            self._open_id = record.open_id if record is not None else ""
        if self._open_id:
            return f"{self.credentials.app_id}/{self._open_id}"
        return f"profile:{self.profile or 'default'}"

    async def record(self) -> TokenRecord:
        """The stored record for this profile, checked to belong to this app."""
        data = await anyio.to_thread.run_sync(self.store.read)
        return self._usable(data)

    async def access_token(self) -> str:
        record = await self.record()
        if record.access_valid(self.leeway, self.clock()):
            return record.access_token
        return await self._refresh(record.access_token)

    async def refresh_after_rejection(self, rejected: str) -> str:
        """Feishu refused ``rejected`` (99991677/99991668): get a token that is not that one."""
        return await self._refresh(rejected, force=True)

    async def _refresh(self, stale: str, *, force: bool = False) -> str:
        async with self._lock:
            record = await self.record()
            if self._replaced(record, stale, force):
                return record.access_token
            tx: StoreTransaction = await anyio.to_thread.run_sync(self.store.begin)
            try:
                data = await anyio.to_thread.run_sync(tx.read)
                record = self._usable(data)
                if self._replaced(record, stale, force):
                    log.debug("another process refreshed %s already; using its token", self.identity)
                    return record.access_token
                # Shielded: once Feishu has rotated the refresh token, a cancelled tool call must
                # not stop us from saving the new one (the old one is already spent).
                with anyio.CancelScope(shield=True):
                    fresh = await self._grant(record)
                    data.put(fresh, self.profile)
                    await self._save(tx, data)
            finally:
                # Synchronous on purpose: an await here could be cancelled and leave the lock held.
                tx.close()
            log.info("refreshed the user access token of %s", self.identity)
            return fresh.access_token

    async def _save(self, tx: StoreTransaction, data: StoreData) -> None:
        try:
            await anyio.to_thread.run_sync(tx.write, data)
        except StoreError as exc:
            # Feishu has already spent the old refresh token: only a new sign-in helps now.
            raise StoreError(
                f"the refreshed sign-in could not be saved ({exc.reason})",
                f"fix that, then run `{self.login_command}`",
            ) from exc

    def _replaced(self, record: TokenRecord, stale: str, force: bool) -> bool:
        """True when the store now holds a usable token: any valid one, or (``force``: Feishu refused
        ``stale``) a valid one other than ``stale``. A valid record is never refreshed again, even
        when its token is the one a reader judged stale (it may have seen an older expiry)."""
        if force and record.access_token == stale:
            return False
        return record.access_valid(self.leeway, self.clock())

    async def _grant(self, record: TokenRecord) -> TokenRecord:
        return await refresh_record(
            self.credentials,
            self.endpoints,
            record,
            login_command=self.login_command,
            transport=self.transport,
            now=self.clock(),
        )

    def _usable(self, data: StoreData) -> TokenRecord:
        try:
            record = data.record(self.profile)
        except StoreDamaged as exc:
            raise exc.with_commands(self.login_command, self.logout_command) from None
        if record is None:
            raise LoginRequired("nobody is signed in to Feishu here", login_command=self.login_command)
        if record.app_id != self.credentials.app_id:
            raise LoginRequired(
                f"the stored sign-in belongs to app {record.app_id}, but this server runs as app "
                f"{self.credentials.app_id}",
                login_command=self.login_command,
            )
        self._open_id = record.open_id
        return record


async def refresh_record(
    credentials: AppCredentials,
    endpoints: Endpoints,
    record: TokenRecord,
    *,
    login_command: str,
    transport: httpx2.AsyncBaseTransport | None,
    now: float,
) -> TokenRecord:
    """Spend ``record``'s refresh token once; a dead one raises ReloginRequired (callers hold the lock)."""
    if not record.refresh_token:
        raise ReloginRequired(
            f"the sign-in of {record.name or record.open_id} has expired and has no refresh token",
            login_command=login_command,
        )
    if not record.can_refresh(now):
        raise ReloginRequired(
            f"the sign-in of {record.name or record.open_id} has expired (refresh token past its lifetime)",
            code=20037,
            login_command=login_command,
        )
    try:
        token = await refresh_grant(credentials, endpoints, record.refresh_token, transport=transport)
    except TokenEndpointError as exc:
        if exc.code in DEAD_REFRESH_CODES or exc.error == "invalid_grant":
            meaning = TOKEN_ERROR_MEANINGS.get(exc.code, exc.reason)
            raise ReloginRequired(
                f"the stored sign-in can no longer be refreshed: {meaning}",
                code=exc.code,
                login_command=login_command,
            ) from exc
        raise
    return record.refreshed(token, now=now)
