"""Keeping idle users signed in: Feishu refresh tokens refreshed before they run out.

A Feishu refresh token lives about a week (``refresh_token_expires_in``, feishu-api.md §7.2) and
is renewed only by being spent. A user who makes no request for longer than that would have to
sign in again; so every replica, every interval (10 minutes, jittered per replica so they drift
apart), looks for grants whose refresh token ends within the window (24 hours) and refreshes them
ahead of time.

- **Only the due grants are read**: Redis keeps when each grant's refresh token ends (a sorted
  set written with the grant, auth/grants_redis.py), so a round reads and decrypts the grants
  ending within the window, not the whole organisation's. An entry found off (the grant went
  away, was signed out, or was refreshed elsewhere) is corrected on the way; the first round of
  a replica, then one round a day, also checks every grant (grants stored before the index).

- **Exactly once across replicas**: each refresh goes through
  :meth:`~auth.grants_redis.SharedGrants.refresh_ahead`, the same Redis lock, re-read and
  compare-and-set as a tool call's refresh. Under the lock the grant is read again and refreshed
  only if still due, so a replica that comes second finds it fresh and leaves it; a lock held
  right now (a tool call or another replica is refreshing that user) is simply passed over.
- **Spread out**: due grants are taken in random order, each replica paces its refreshes of a
  tenant to that tenant's keep-alive rate (``FEISHU_KEEPALIVE_RATE``), and every refresh takes one
  hit from the tenant's keep-alive window *and* its fair-use share in Redis
  (:meth:`~server.team.quota.Quota.background_hit`): when either is used up, the rest of that
  tenant waits for the next round (users' own requests come first; the window is far longer
  than the interval).
- **Refused grants**: a refresh token Feishu refuses (revoked, expired, the 365-day limit) marks
  the grant ``needs_reauth`` on the way (as on any refresh): the user's next request gets a 401
  and their assistant opens the sign-in again.
- **Stopped cleanly**: the loop runs in the replica's lifespan task group and is cancelled with
  it; a refresh in flight is shielded until its new token is stored.
- ``FEISHU_KEEPALIVE=off`` turns it off (users idle for a week then sign in again).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass

from limits import RateLimitItem

from auth.errors import AuthError, LoginRequired, ReloginRequired
from auth.grants_redis import ACTIVE, GrantStoreUnavailable, SharedGrants, refresh_ends, subject_hash
from auth.record import TokenRecord
from server.clock import Clock
from server.team.quota import Quota

log = logging.getLogger("feishu_calendar_mcp.team.keepalive")

# A round that also checks every grant's entry in the index, in seconds between them.
FULL_CHECK_EVERY = 24 * 3600


@dataclass
class Round:
    """What one round did, by outcome: refreshed, not_due (or being refreshed elsewhere right now),
    signed_out (Feishu refused: marked for sign-in), deferred (over the tenant's share), failed."""

    outcomes: Counter[str]

    def __getitem__(self, outcome: str) -> int:
        return self.outcomes[outcome]


class KeepAlive:
    def __init__(
        self,
        grants: SharedGrants,
        quota: Quota,
        limits: list[RateLimitItem],
        clock: Clock,
        *,
        window: float,
        interval: float,
        rng: random.Random | None = None,
    ) -> None:
        self.grants = grants
        self.quota = quota
        self.limits = limits
        self.clock = clock
        self.window = window
        self.interval = interval
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        # The pace within a round: the tightest of the limits, e.g. 30/minute -> one every 2 s.
        self.spacing = max(item.get_expiry() / item.amount for item in limits)
        self.checked_all_at: float | None = None  # when this replica last checked every grant's entry

    def __repr__(self) -> str:
        return f"KeepAlive(window={self.window:.0f}s, interval={self.interval:.0f}s, spacing={self.spacing:.1f}s)"

    def due(self, record: TokenRecord) -> bool:
        return bool(record.refresh_token) and refresh_ends(record) - self.clock.now() < self.window

    async def run(self) -> None:
        """Rounds until cancelled (the replica's shutdown). The first waits a random part of an
        interval, so replicas started together do not look at the same moment."""
        await self.clock.sleep(self.rng.uniform(0, self.interval))
        while True:
            try:
                done = await self.round()
                if done["refreshed"] or done["signed_out"]:
                    log.info("keep-alive round: %s", dict(done.outcomes))
            except GrantStoreUnavailable as exc:
                log.warning("keep-alive round skipped: %s", exc.reason)
            except Exception:  # a background loop: one bad round must not end keeping everyone alive
                log.exception("keep-alive round failed")
            await self.clock.sleep(self.interval * self.rng.uniform(0.5, 1.5))

    async def round(self) -> Round:
        """Refresh the grants that are due (paced, within the tenant's share)."""
        store = self.grants.store
        now = self.clock.now()
        if self.checked_all_at is None or now - self.checked_all_at >= FULL_CHECK_EVERY:
            await store.index_all()
            self.checked_all_at = now
        outcomes: Counter[str] = Counter()
        due: list[str] = []
        for subject in await store.ending_by(now + self.window):
            grant = await store.get(subject)
            if grant is not None and grant.status == ACTIVE and self.due(grant.record):
                due.append(subject)
            else:  # gone, signed out or refreshed elsewhere since its entry was written
                await store.reindex(subject, grant)
        self.rng.shuffle(due)
        deferred: set[str] = set()  # tenants whose share is used up for this round
        for subject in due:
            tenant = subject.partition(":")[0]
            if tenant in deferred or not await self.quota.background_hit(tenant, self.limits):
                deferred.add(tenant)
                outcomes["deferred"] += 1
                continue
            outcomes[await self._one(subject)] += 1
            await self.clock.sleep(self.spacing)
        return Round(outcomes)

    async def _one(self, subject: str) -> str:
        try:
            refreshed = await self.grants.refresh_ahead(subject, self.due)
        except ReloginRequired as exc:  # already marked needs_reauth: the user is asked to sign in
            log.info("keep-alive: user %s must sign in again (%s)", subject_hash(subject), exc.code)
            return "signed_out"
        except LoginRequired:  # the grant went away, or belongs to another app
            return "not_due"
        except GrantStoreUnavailable:
            raise
        except AuthError as exc:  # Feishu unreachable or failing: the next round tries again
            log.warning("keep-alive: refreshing user %s failed (%s)", subject_hash(subject), exc.reason)
            return "failed"
        if refreshed:
            return "refreshed"
        return "not_due"
