"""Each signed-in user's own time zone in team mode: where it comes from, where it is kept.

Feishu has no documented API for a user's preferred zone (scheduling-api.md §6), so the zone a
user's naive times, "today" and working hours are read in is, first found wins:

1. **The user's own choice**, made on our consent page at sign-in (the page offers the zone the
   browser reports, so a user who does nothing keeps the zone their computer is set to; signing
   in again changes it).
2. **Their Feishu contact profile's ``time_zone``**, read once at sign-in. UNVERIFIED: Feishu's
   documentation of the contact user does not list this field; the official lark-oapi SDK's
   ``contact.v3.model.User`` has ``time_zone: Optional[str]``, so we follow that model, ask
   ``/contact/v3/users/batch`` for the signed-in user, and use the value only if it names an IANA
   zone. Absent or unreadable, it is simply not a source.
3. **The server's zone** (``FEISHU_TIMEZONE``), as for every user before this.

Both stored sources are kept, so a later sign-in that brings a new profile zone never overwrites
the user's own choice. The record is one Redis string per user (``fcm:zone:<hash of subject>``),
sealed with the grant cipher and the subject as associated data, like the grant itself; it lives
as long as a Feishu sign-in can (365 days from consent), renewed at every sign-in. It is read once
per MCP request, when the caller's token is verified, into :data:`server.state.CALLER_TIMEZONE`:
the value every tool's validation context and the composite tools already read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import httpx2
from redis.asyncio import Redis

from auth.grant_cipher import GrantCipher, SealError
from auth.grants_redis import GRANT_PREFIX, RedisGrantStore, reseal_all, subject_hash, text
from tools.common.times import TimeInputError, zone

log = logging.getLogger("feishu_calendar_mcp.team.zones")

ZONE_PREFIX = "fcm:zone:"
ZONE_TTL = 365 * 24 * 3600  # Feishu asks every user to consent again within 365 days anyway
PROFILE_PATH = "/open-apis/contact/v3/users/batch"


def known_zone(name: str | None) -> str | None:
    """``name`` if it is an IANA zone this machine knows, else None."""
    if not name or len(name) > 64:
        return None
    try:
        zone(name)
    except TimeInputError:
        return None
    return name


@dataclass(frozen=True)
class UserZone:
    chosen: str = ""  # what the user picked at consent
    profile: str = ""  # their Feishu profile's time_zone, when Feishu returned one

    def effective(self, default: str) -> str:
        return self.chosen or self.profile or default


class UserZones:
    """The sealed per-user zone records, and which zone a user's request runs in."""

    def __init__(self, redis: Redis, cipher: GrantCipher, default: str) -> None:
        self.redis = redis
        self.cipher = cipher
        self.default = default

    @staticmethod
    def key(subject: str) -> str:
        return ZONE_PREFIX + subject_hash(subject)

    @staticmethod
    def _aad(subject: str) -> str:
        return f"zone:{subject}"

    async def get(self, subject: str) -> UserZone:
        raw = await self.redis.get(self.key(subject))
        if raw is None:
            return UserZone()
        try:
            fields = json.loads(self.cipher.open(text(raw), self._aad(subject)))
        except (SealError, ValueError) as exc:
            # A key dropped from the ring too early, or a damaged record: the server's zone, said once per request.
            log.warning("user %s: time zone record unreadable (%s); using the server's", subject_hash(subject), exc)
            return UserZone()
        return UserZone(str(fields.get("chosen") or ""), str(fields.get("profile") or ""))

    async def remember(self, subject: str, *, chosen: str | None, profile: str | None) -> UserZone:
        """Store what a sign-in learnt; a source it did not learn (None) keeps its stored value."""
        current = await self.get(subject)
        updated = UserZone(
            chosen=current.chosen if chosen is None else (known_zone(chosen) or ""),
            profile=current.profile if profile is None else (known_zone(profile) or ""),
        )
        await self._write(subject, updated)
        return updated

    async def _write(self, subject: str, value: UserZone) -> None:
        sealed = self.cipher.seal(json.dumps(asdict(value)).encode(), self._aad(subject))
        await self.redis.set(self.key(subject), sealed, ex=ZONE_TTL)

    async def effective(self, subject: str) -> str:
        return (await self.get(subject)).effective(self.default)

    async def reseal_all(self) -> int:
        """Re-seal every record not sealed with the current key (with the grants, after a rotation)."""
        count = 0
        async for key in self.redis.scan_iter(match=ZONE_PREFIX + "*", count=500):
            raw = await self.redis.get(key)
            if raw is None or self.cipher.kid_of(text(raw)) == self.cipher.current_kid:
                continue
            # The subject is inside the seal's associated data only: find it through the grant's record.
            subject = await self.redis.hget(GRANT_PREFIX + text(key).removeprefix(ZONE_PREFIX), "sub")
            if subject is None:
                continue
            value = await self.get(text(subject))
            ttl = await self.redis.ttl(key)
            sealed = self.cipher.seal(json.dumps(asdict(value)).encode(), self._aad(text(subject)))
            await self.redis.set(key, sealed, ex=ttl if ttl > 0 else ZONE_TTL)
            count += 1
        return count


async def reseal(redis: Redis, cipher: GrantCipher) -> tuple[int, int]:
    """After a key rotation (docs/team-mode.md): how many grants, then zone records, were re-sealed."""
    return await reseal_all(RedisGrantStore(redis, cipher)), await UserZones(redis, cipher, "UTC").reseal_all()


async def profile_zone(
    api_base: str, access_token: str, open_id: str, *, transport: httpx2.AsyncBaseTransport | None = None
) -> str | None:
    """The signed-in user's Feishu profile ``time_zone``: the IANA name, "" when Feishu answered
    without a usable one, None when the profile could not be read (a missing scope, an error).

    Never fails a sign-in: whatever happens, the profile is then simply not a source.
    """
    async with httpx2.AsyncClient(base_url=api_base, transport=transport, timeout=10.0) as http:
        try:
            response = await http.get(
                PROFILE_PATH,
                params=[("user_ids", open_id), ("user_id_type", "open_id")],
                headers={"Authorization": f"Bearer {access_token}"},
            )
            envelope = response.json()
        except (httpx2.TransportError, ValueError) as exc:
            log.info("profile time zone not read (%s)", type(exc).__name__)
            return None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or envelope.get("code"):
        log.info("profile time zone not read (HTTP %s)", response.status_code)
        return None
    mine = [item for item in items if isinstance(item, dict) and item.get("open_id") == open_id]
    value = mine[0].get("time_zone") if mine else None
    return (known_zone(value) or "") if isinstance(value, str) else ""
