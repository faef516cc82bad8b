"""Team mode's Feishu grants: sealed in Redis, refreshed once per expiry however many replicas race.

One Redis hash per user (``fcm:grant:<hash of subject>``): ``sub`` (the subject,
``tenant_key:open_id``), ``v`` (a version, bumped by every write), ``status`` (``active`` or
``needs_reauth``) and ``sealed`` (the whole :class:`~auth.record.TokenRecord`, AES-GCM sealed by
:class:`~auth.grant_cipher.GrantCipher` with the subject as associated data). Nothing else about a
token is ever written, so a dump of Redis holds no usable token.

Feishu refresh tokens work once. A refresh takes a Redis lock for that user (redis-py ``Lock``:
``SET NX PX`` with a random owner token), **re-reads** the grant (another replica may have
refreshed while we waited), spends the refresh token, and writes the new record with a
compare-and-set on ``v`` before the new access token is used. A refresh Feishu refuses for good
marks the grant ``needs_reauth``: the resource server then refuses the user's MCP token and the
client signs in again.

A sorted set (``fcm:grants:refresh-ends``) holds, for each active grant with a refresh token,
when that refresh token ends. Every write of a grant sets its entry in the same Lua script, so the
keep-alive (server/team/keepalive.py) reads only the grants that are due instead of opening every
grant in Redis each round. The index only says where to look: the keep-alive re-reads each grant,
corrects an entry that is off (``reindex``) and checks the whole store now and then (``index_all``,
for grants written before the index existed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from redis.asyncio import Redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError

from auth.errors import AuthError, LoginRequired, ReloginRequired
from auth.grant_cipher import GrantCipher
from auth.oauth import AppCredentials, Endpoints
from auth.record import TokenRecord
from auth.session import DEFAULT_LEEWAY, refresh_record

log = logging.getLogger("feishu_calendar_mcp.team.grants")

GRANT_PREFIX = "fcm:grant:"
REFRESH_ENDS = "fcm:grants:refresh-ends"  # sorted set: grant key -> when its refresh token ends
LOCK_PREFIX = "fcm:lock:refresh:"
ACTIVE = "active"
NEEDS_REAUTH = "needs_reauth"
# What a user does when their grant is gone: their MCP client runs OAuth again on the next 401.
SIGN_IN_AGAIN = "sign in again from your MCP client (it will open the sign-in page)"

# What Feishu's docs give as refresh_token_expires_in (604800 s): assumed when a token answer
# did not say, so such a grant is still kept alive rather than left to lapse.
ASSUMED_REFRESH_LIFETIME = 7 * 24 * 3600

# The refresh-ends entry of the grant in KEYS[1] (index in KEYS[2]): ARGV[n] its end, '' for none.
_INDEX = """
local function index(status, ends)
  if status == 'active' and ends ~= '' then
    redis.call('ZADD', KEYS[2], ends, KEYS[1])
  else
    redis.call('ZREM', KEYS[2], KEYS[1])
  end
end
"""
# Write only if nobody wrote since we read (v unchanged); returns the new version or -1.
_CAS = (
    _INDEX
    + """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'v', current + 1, 'sub', ARGV[2], 'sealed', ARGV[3], 'status', ARGV[4])
index(ARGV[4], ARGV[5])
return current + 1
"""
)
# A new sign-in replaces whatever was there (a newer grant wins over any refresh in flight).
_PUT = (
    _INDEX
    + """
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'sealed', ARGV[2], 'status', ARGV[3])
index(ARGV[3], ARGV[4])
return version
"""
)
# Correct one entry from what was read of the grant (ARGV[1] its end, '' for none): removed when
# the grant is gone or not active; else only ever moved later (GT), so a refresh written since
# the read keeps its later end.
_REINDEX = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'active' or ARGV[1] == '' then
  redis.call('ZREM', KEYS[2], KEYS[1])
  return 0
end
redis.call('ZADD', KEYS[2], 'GT', ARGV[1], KEYS[1])
return 1
"""
# A grant Feishu refused: nothing to keep alive until the user signs in again (a new entry then).
_MARK = """
redis.call('HSET', KEYS[1], 'status', ARGV[1])
redis.call('ZREM', KEYS[2], KEYS[1])
"""


def refresh_ends(record: TokenRecord) -> float:
    """When ``record``'s refresh token stops working (Unix seconds)."""
    return record.refresh_expires_at or record.obtained_at + ASSUMED_REFRESH_LIFETIME


def _ends(record: TokenRecord | None) -> str:
    """The index's score for ``record``: '' when there is nothing to keep alive."""
    return repr(refresh_ends(record)) if record is not None and record.refresh_token else ""


class GrantStoreUnavailable(AuthError):
    """Redis did not answer: nothing is wrong with the user's sign-in, retrying later helps."""


def text(value: bytes | str) -> str:
    """A Redis reply as text (the client is created without decode_responses)."""
    return value.decode() if isinstance(value, bytes) else value


def subject_hash(subject: str) -> str:
    """A stable, non-reversible name for a subject (Redis key names, logs)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StoredGrant:
    subject: str
    version: int
    status: str
    record: TokenRecord

    def __repr__(self) -> str:
        return f"StoredGrant(subject={subject_hash(self.subject)}, v={self.version}, status={self.status})"


class RedisGrantStore:
    """Sealed grants in Redis, with versioned compare-and-set writes."""

    def __init__(self, redis: Redis, cipher: GrantCipher) -> None:
        self.redis = redis
        self.cipher = cipher
        self._cas = redis.register_script(_CAS)
        self._put = redis.register_script(_PUT)
        self._reindex = redis.register_script(_REINDEX)
        self._mark = redis.register_script(_MARK)

    @staticmethod
    def key(subject: str) -> str:
        return GRANT_PREFIX + subject_hash(subject)

    def _seal(self, subject: str, record: TokenRecord) -> str:
        return self.cipher.seal(json.dumps(record.to_json()).encode(), subject)

    async def get(self, subject: str) -> StoredGrant | None:
        fields = await _guard(self.redis.hgetall(self.key(subject)))
        if not fields:
            return None
        return self._decode(subject, fields)

    def _decode(self, subject: str, raw: Mapping[bytes | str, bytes | str]) -> StoredGrant:
        fields = {text(k): text(v) for k, v in raw.items()}
        record = TokenRecord.from_json(json.loads(self.cipher.open(fields["sealed"], subject)))
        return StoredGrant(subject, int(fields["v"]), fields.get("status", ""), record)

    async def put(self, subject: str, record: TokenRecord) -> int:
        """Store a fresh sign-in's grant (active); returns its version."""
        sealed = self._seal(subject, record)
        keys = [self.key(subject), REFRESH_ENDS]
        return int(await _guard(self._put(keys=keys, args=[subject, sealed, ACTIVE, _ends(record)])))

    async def compare_and_set(self, subject: str, version: int, record: TokenRecord, status: str = ACTIVE) -> bool:
        sealed = self._seal(subject, record)
        keys = [self.key(subject), REFRESH_ENDS]
        written = await _guard(self._cas(keys=keys, args=[version, subject, sealed, status, _ends(record)]))
        return int(written) >= 0

    async def mark_needs_reauth(self, subject: str) -> None:
        await _guard(self._mark(keys=[self.key(subject), REFRESH_ENDS], args=[NEEDS_REAUTH]))

    async def status(self, subject: str) -> str | None:
        """Only the status (no decryption): what the resource server checks on every request."""
        value = await _guard(self.redis.hget(self.key(subject), "status"))
        return text(value) if value is not None else None

    async def delete(self, subject: str) -> None:
        async with self.redis.pipeline(transaction=True) as both:
            both.delete(self.key(subject))
            both.zrem(REFRESH_ENDS, self.key(subject))
            await _guard(both.execute())

    async def ending_by(self, deadline: float) -> list[str]:
        """The subjects whose refresh token ends by ``deadline``, by the index, soonest first."""
        keys = await _guard(self.redis.zrangebyscore(REFRESH_ENDS, "-inf", deadline))
        if not keys:
            return []
        async with self.redis.pipeline(transaction=False) as reads:
            for key in keys:
                reads.hget(key, "sub")
            subjects = await _guard(reads.execute())
        for key, found in zip(keys, subjects, strict=True):
            if found is None:  # the grant went away without its entry (e.g. deleted by hand)
                await _guard(self._reindex(keys=[key, REFRESH_ENDS], args=[""]))
        return [text(found) for found in subjects if found is not None]

    async def reindex(self, subject: str, grant: StoredGrant | None) -> None:
        """Correct ``subject``'s entry from what was just read of its grant (None: it is gone)."""
        ends = _ends(grant.record) if grant is not None and grant.status == ACTIVE else ""
        await _guard(self._reindex(keys=[self.key(subject), REFRESH_ENDS], args=[ends]))

    async def index_all(self) -> int:
        """Give every grant its entry (grants written before the index existed); how many were looked at."""
        count = 0
        async for subject in self.subjects():
            await self.reindex(subject, await self.get(subject))
            count += 1
        return count

    async def subjects(self) -> AsyncIterator[str]:
        async for key in self.redis.scan_iter(match=GRANT_PREFIX + "*", count=500):
            subject = await self.redis.hget(key, "sub")
            if subject is not None:
                yield text(subject)


async def reseal_all(store: RedisGrantStore) -> int:
    """Re-seal every grant not sealed with the current key (after a key rotation); the count.

    Compare-and-set per grant, so a refresh that lands meanwhile wins and is left as it is (it
    was sealed with the current key anyway).
    """
    count = 0
    async for subject in store.subjects():
        fields = await store.redis.hgetall(store.key(subject))
        if not fields or store.cipher.kid_of(text(fields.get(b"sealed", b""))) == store.cipher.current_kid:
            continue
        grant = store._decode(subject, fields)
        if await store.compare_and_set(subject, grant.version, grant.record, grant.status):
            count += 1
    return count


class SharedGrants:
    """Each subject's Feishu access token, kept fresh with one refresh per expiry across replicas."""

    def __init__(
        self,
        store: RedisGrantStore,
        credentials: AppCredentials,
        endpoints: Endpoints,
        *,
        leeway: float = DEFAULT_LEEWAY,
        lock_timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.endpoints = endpoints
        self.leeway = leeway
        self.lock_timeout = lock_timeout
        self.transport = transport
        self.clock = clock
        self.refreshes = 0  # refreshes this process made (the benchmark reports it)

    def __repr__(self) -> str:
        return f"SharedGrants(app={self.credentials.app_id})"

    async def usable(self, subject: str) -> StoredGrant:
        grant = await self.store.get(subject)
        if grant is None:
            raise LoginRequired(f"no Feishu sign-in is stored for this user: {SIGN_IN_AGAIN}")
        if grant.status != ACTIVE:
            raise ReloginRequired(f"the Feishu sign-in of this user can no longer be refreshed: {SIGN_IN_AGAIN}")
        if grant.record.app_id != self.credentials.app_id:
            raise LoginRequired(f"the stored sign-in belongs to another Feishu app: {SIGN_IN_AGAIN}")
        return grant

    async def access_token(self, subject: str) -> str:
        grant = await self.usable(subject)
        if grant.record.access_valid(self.leeway, self.clock()):
            return grant.record.access_token
        stale = grant.record.access_token
        return _token(await self._refresh(subject, lambda record: not self._replaced(record, stale, False)))

    async def refresh_after_rejection(self, subject: str, rejected: str) -> str:
        """Feishu refused ``rejected``: a token that is not that one (refreshing only if nobody has)."""
        return _token(await self._refresh(subject, lambda record: not self._replaced(record, rejected, True)))

    async def refresh_ahead(self, subject: str, due: Callable[[TokenRecord], bool]) -> bool:
        """The keep-alive's refresh (server/team/keepalive.py), through the same lock, re-read and
        compare-and-set: True if this call spent the refresh token. False if the grant is no longer
        ``due`` once re-read under the lock (another replica refreshed it), or the lock is held right
        now (a tool call or another replica is refreshing it: nothing to add). A refresh Feishu
        refuses marks the grant for re-consent and raises ReloginRequired, as for a tool call."""
        outcome = await self._refresh(subject, due, wait=False)
        return outcome is not None and outcome[1]

    async def _refresh(
        self, subject: str, needed: Callable[[TokenRecord], bool], *, wait: bool = True
    ) -> tuple[TokenRecord, bool] | None:
        """Under the user's lock, re-read the grant and refresh it if still ``needed``: the record
        to use and whether this call refreshed it; None only without ``wait``, when the lock is busy."""
        lock = self.store.redis.lock(
            LOCK_PREFIX + subject_hash(subject),
            timeout=self.lock_timeout,
            sleep=0.02,
            blocking_timeout=self.lock_timeout + 5,
        )
        try:
            acquired = await lock.acquire(blocking=wait)
        except RedisError as exc:
            raise GrantStoreUnavailable(unreachable(exc)) from exc
        if not acquired:
            if not wait:
                return None
            raise GrantStoreUnavailable("another replica has been refreshing this user's sign-in for too long")
        try:
            grant = await self.usable(subject)  # re-read: another replica may have refreshed meanwhile
            if not needed(grant.record):
                log.debug("user %s needs no refresh after all (refreshed elsewhere)", subject_hash(subject))
                return grant.record, False
            # Shielded: once Feishu has rotated the refresh token, the new one must be saved even
            # if the tool call is cancelled (the old one is already spent).
            with anyio.CancelScope(shield=True):
                try:
                    fresh = await refresh_record(
                        self.credentials,
                        self.endpoints,
                        grant.record,
                        login_command="",
                        transport=self.transport,
                        now=self.clock(),
                    )
                except ReloginRequired as dead:
                    await self.store.mark_needs_reauth(subject)
                    raise ReloginRequired(f"{dead.reason}; {SIGN_IN_AGAIN}", code=dead.code) from dead
                self.refreshes += 1
                if not await self.store.compare_and_set(subject, grant.version, fresh):
                    # Only if the lock expired under us, or a new sign-in landed: keep what is stored.
                    log.warning("user %s: grant changed during a refresh; kept the stored one", subject_hash(subject))
            log.info("refreshed the Feishu token of user %s", subject_hash(subject))
            return fresh, True
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await lock.release()
                except (LockNotOwnedError, LockError):
                    log.warning("user %s: the refresh lock expired before release", subject_hash(subject))
                except RedisError:
                    log.warning("user %s: could not release the refresh lock (it expires)", subject_hash(subject))

    def _replaced(self, record: TokenRecord, stale: str, force: bool) -> bool:
        if force and record.access_token == stale:
            return False
        return record.access_token != stale and record.access_valid(self.leeway, self.clock())


def _token(outcome: tuple[TokenRecord, bool] | None) -> str:
    if outcome is None:  # only a refresh that does not wait for the lock gets None
        raise GrantStoreUnavailable("another replica is refreshing this user's sign-in; retry")
    return outcome[0].access_token


def unreachable(exc: Exception) -> str:
    return f"the server's grant store (Redis) is unreachable ({type(exc).__name__}); retry in a minute"


async def _guard(awaitable: Any) -> Any:
    """Await a Redis call; a connection failure becomes GrantStoreUnavailable (never a crash)."""
    try:
        return await awaitable
    except RedisError as exc:
        raise GrantStoreUnavailable(unreachable(exc)) from exc
