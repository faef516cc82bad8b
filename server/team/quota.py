"""Fair use of the app's Feishu quota: per-user and per-tenant limits shared by every replica.

Feishu limits calls per app and tenant (level 4 APIs: 1000/min and 50/s), so one busy user could
starve everyone. Each request to Feishu first takes one hit from the user's window and one from
the tenant's (the ``limits`` library, moving windows in Redis: exact, no burst at a window
edge); set both below Feishu's limits. A refused hit becomes a tool error saying how long to wait.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from auth.grants_redis import subject_hash
from server.errors import RateLimited

DEFAULT_USER_LIMITS = "5/second;120/minute"
DEFAULT_TENANT_LIMITS = "40/second;900/minute"  # below Feishu's 50/s and 1000/min per app and tenant
# The background keep-alive's refreshes (server/team/keepalive.py), per tenant: a small slice.
DEFAULT_KEEPALIVE_LIMITS = "30/minute"


class QuotaError(ValueError):
    """A limit setting that does not parse."""


def parse_limits(text: str, setting: str) -> list[RateLimitItem]:
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise QuotaError(f"{setting}: {exc} (write e.g. 5/second;120/minute)") from None
    if not items:
        raise QuotaError(f"{setting} is empty (write e.g. 5/second;120/minute)")
    return items


class Quota:
    """The two limits every upstream request passes; ``check`` raises RateLimited with the wait."""

    def __init__(self, redis: Redis, user_limits: list[RateLimitItem], tenant_limits: list[RateLimitItem]) -> None:
        # On the replica's own connection pool (closed with it); redis-py underneath, so its errors are RedisError.
        pool: Any = redis.connection_pool  # limits documents connection_pool but annotates options narrowly
        self.storage = RedisStorage("async+redis://", implementation="redispy", connection_pool=pool)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.user_limits = user_limits
        self.tenant_limits = tenant_limits

    async def check(self, subject: str) -> None:
        tenant = subject.partition(":")[0]
        scopes = [("user", subject_hash(subject), self.user_limits), ("tenant", tenant, self.tenant_limits)]
        for who, key, items in scopes:
            for item in items:
                if not await self.limiter.hit(item, who, key):
                    stats = await self.limiter.get_window_stats(item, who, key)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    raise RateLimited(
                        "fair-use limit",
                        -1,
                        f"this {'user' if who == 'user' else 'organisation'} is over its share of the calendar "
                        f"quota ({item})",
                        advice=f"wait {wait} s, then retry",
                        retry_after=float(wait),
                    )

    async def background_hit(self, tenant: str, limits: list[RateLimitItem]) -> bool:
        """One background request of ``tenant``'s (the keep-alive's): within its own per-tenant
        ``limits`` and the tenant's fair-use share that users' requests take from too. False: not
        now (the caller leaves it for later; users' requests come first)."""
        for who, items in (("keepalive", limits), ("tenant", self.tenant_limits)):
            for item in items:
                if not await self.limiter.test(item, who, tenant):
                    return False
        for who, items in (("keepalive", limits), ("tenant", self.tenant_limits)):
            for item in items:
                if not await self.limiter.hit(item, who, tenant):
                    return False
        return True
