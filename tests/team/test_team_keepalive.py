"""The keep-alive of idle users' Feishu refresh tokens: several replicas on one Redis and the sandbox.

The clock is pinned and moved by hand: a week of idleness takes no time, and nothing here reads
the wall clock. Each "replica" of the round tests is what a replica runs (its own Redis
connection, grant store, refresh path, quota and keep-alive), sharing the redis-server and the
sandbox; the loop and shutdown tests run it inside a real replica's lifespan.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace

import anyio
import pytest
from limits import parse_many
from redis.asyncio import Redis

from auth.grant_cipher import GrantCipher
from auth.grants_redis import (
    ACTIVE,
    NEEDS_REAUTH,
    REFRESH_ENDS,
    RedisGrantStore,
    SharedGrants,
    StoredGrant,
    refresh_ends,
)
from auth.record import TokenRecord
from sandbox import Sandbox
from sandbox.seed import DEMO_USER_OPEN_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, TENANT_KEY, WANG_FANG_OPEN_ID
from server.clock import VirtualClock
from server.team.config import KEEPALIVE_WINDOW, TeamConfig, TeamConfigError
from server.team.keepalive import KeepAlive, Round
from server.team.quota import Quota
from tests.team.harness import PUBLIC, in_process_team, whoami
from tests.team.helpers import CREDENTIALS, ENDPOINTS, sandbox_grant

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
DAY = 24 * 3600
USERS = (DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID)
REPLICAS = 3


class TickClock(VirtualClock):
    """A pinned clock whose sleeps wait for the test's tick (then move time on): the keep-alive's
    loop stays parked until the test lets it take one step."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.arrivals = 0  # sleeps entered so far
        self._arrived = anyio.Event()
        self._go = anyio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        go = self._go
        self.arrivals += 1
        self._arrived.set()
        self._arrived = anyio.Event()
        await go.wait()
        self.time += seconds

    def tick(self) -> None:
        self._go.set()
        self._go = anyio.Event()

    async def parked_again(self, after: int) -> None:
        while self.arrivals <= after:
            await self._arrived.wait()


def subject(open_id: str) -> str:
    return f"{TENANT_KEY}:{open_id}"


@asynccontextmanager
async def replicas(
    redis_url: str, sb: Sandbox, count: int = REPLICAS, *, rate: str = "600/minute", tenant: str = "1000/minute"
) -> AsyncIterator[list[KeepAlive]]:
    cipher = GrantCipher.from_setting(GrantCipher.new_key())
    async with AsyncExitStack() as stack:
        made = []
        for n in range(count):
            redis = Redis.from_url(redis_url)
            stack.push_async_callback(redis.aclose)
            grants = SharedGrants(
                RedisGrantStore(redis, cipher), CREDENTIALS, ENDPOINTS, transport=sb.transport(), clock=sb.clock.now
            )
            quota = Quota(redis, parse_many("100/second"), parse_many(tenant))
            made.append(
                KeepAlive(
                    grants,
                    quota,
                    parse_many(rate),
                    sb.clock,
                    window=KEEPALIVE_WINDOW,
                    interval=600,
                    rng=random.Random(n),
                )
            )
        yield made


async def signed_in(sb: Sandbox, keepalive: KeepAlive) -> None:
    for open_id in USERS:
        await keepalive.grants.store.put(subject(open_id), await sandbox_grant(sb, open_id, now=sb.clock.now()))


async def all_rounds(keepalives: list[KeepAlive]) -> dict[str, int]:
    """One round on every replica at once; the outcomes summed."""
    totals: dict[str, int] = {}

    async def one(keepalive: KeepAlive) -> None:
        done = await keepalive.round()
        for outcome, count in done.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count

    async with anyio.create_task_group() as group:
        for keepalive in keepalives:
            group.start_soon(one, keepalive)
    return totals


async def test_each_due_grant_is_refreshed_exactly_once_across_replicas(redis_url: str) -> None:
    sb = Sandbox(seed=True, clock=VirtualClock(NOW))
    async with replicas(redis_url, sb) as keepalives:
        await signed_in(sb, keepalives[0])
        store = keepalives[0].grants.store
        before = {u: (await store.get(subject(u))) for u in USERS}

        assert await all_rounds(keepalives) == {}  # a week left: nothing is due
        sb.advance(6.5 * DAY)  # idle for six and a half days: half a day left, inside the window
        assert sb.stats.token_grants["refresh_token"] == 0
        for _ in range(3):  # rounds overlap across replicas and repeat: still one refresh each
            await all_rounds(keepalives)
        assert sb.stats.token_grants["refresh_token"] == len(USERS)
        assert sum(k.grants.refreshes for k in keepalives) == len(USERS)
        for user in USERS:
            grant = await store.get(subject(user))
            old = before[user]
            assert grant is not None and old is not None and grant.status == ACTIVE
            assert grant.version == old.version + 1  # one compare-and-set each
            assert grant.record.refresh_token != old.record.refresh_token
            assert refresh_ends(grant.record) - sb.clock.now() > 6 * DAY  # a fresh week
            # The user's next tool call uses the kept-alive token: no refresh of its own.
            assert await keepalives[2].grants.access_token(subject(user)) == grant.record.access_token
        assert sb.stats.token_grants["refresh_token"] == len(USERS)


def staff_record(n: int, obtained_at: float) -> TokenRecord:
    """A made-up grant of someone else in the organisation (never sent to Feishu: not due)."""
    return TokenRecord(
        app_id=CREDENTIALS.app_id,
        open_id=f"ou_staff{n:05d}",
        access_token=f"u-staff-{n}",
        expires_at=obtained_at + 7200,
        refresh_token=f"ur-staff-{n}",
        refresh_expires_at=obtained_at + 7 * DAY,
        obtained_at=obtained_at,
    )


async def test_a_round_reads_only_the_grants_that_are_due(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An organisation's grants are not all opened every round: only those ending within the window
    (and every grant once a day, for grants stored before the index)."""
    sb = Sandbox(seed=True, clock=VirtualClock(NOW))
    async with replicas(redis_url, sb, 1) as [keepalive]:
        store = keepalive.grants.store
        await signed_in(sb, keepalive)
        for n in range(200):  # signed in three days after the four users
            await store.put(f"{TENANT_KEY}:ou_staff{n:05d}", staff_record(n, NOW + 3 * DAY))
        opened: list[str] = []
        full_checks: list[int] = []
        get, index_all = store.get, store.index_all

        async def counted_get(who: str) -> StoredGrant | None:
            opened.append(who)
            return await get(who)

        async def counted_index_all() -> int:
            before = len(opened)
            looked_at = await index_all()
            full_checks.append(len(opened) - before)
            del opened[before:]  # the once-a-day check is counted apart
            return looked_at

        monkeypatch.setattr(store, "get", counted_get)
        monkeypatch.setattr(store, "index_all", counted_index_all)
        assert await keepalive.round() == Round(Counter()) and opened == []
        sb.advance(3 * 3600)
        assert await keepalive.round() == Round(Counter()) and opened == []
        assert full_checks == [204]  # the replica's first round only
        sb.advance(6.5 * DAY - 3 * 3600)
        done = await keepalive.round()
        assert done["refreshed"] == len(USERS) and full_checks == [204, 204]
        assert set(opened) == {subject(u) for u in USERS}  # read, then re-read under each one's lock


async def test_the_index_follows_every_write_and_mends_what_it_missed(redis_url: str) -> None:
    sb = Sandbox(seed=True, clock=VirtualClock(NOW))
    async with replicas(redis_url, sb, 1) as [keepalive]:
        store = keepalive.grants.store
        redis = store.redis
        who = subject(DEMO_USER_OPEN_ID)
        record = await sandbox_grant(sb, DEMO_USER_OPEN_ID, now=NOW)
        await store.put(who, record)
        assert await redis.zscore(REFRESH_ENDS, store.key(who)) == refresh_ends(record)
        assert await store.ending_by(NOW + 7 * DAY) == [who] and await store.ending_by(NOW + 6 * DAY) == []
        await store.mark_needs_reauth(who)  # Feishu refused it: nothing to keep alive
        assert await redis.zscore(REFRESH_ENDS, store.key(who)) is None
        await store.put(who, record)  # signed in again
        grant = await store.get(who)
        assert grant is not None
        later = replace(record, refresh_expires_at=NOW + 8 * DAY)
        assert await store.compare_and_set(who, grant.version, later)
        assert await redis.zscore(REFRESH_ENDS, store.key(who)) == NOW + 8 * DAY
        await store.reindex(who, grant)  # an older read never moves an entry earlier
        assert await redis.zscore(REFRESH_ENDS, store.key(who)) == NOW + 8 * DAY
        await store.delete(who)
        assert await redis.zcard(REFRESH_ENDS) == 0

        # A grant stored before the index existed, and an entry whose grant went away behind it.
        await store.put(who, record)
        await redis.zrem(REFRESH_ENDS, store.key(who))
        await redis.zadd(REFRESH_ENDS, {store.key(subject(LI_LEI_OPEN_ID)): NOW})
        sb.advance(6.5 * DAY)
        done = await keepalive.round()  # a replica's first round checks every grant
        assert done["refreshed"] == 1
        assert await redis.zrange(REFRESH_ENDS, 0, -1) == [store.key(who).encode()]
        assert await store.ending_by(sb.clock.now() + DAY) == []  # refreshed: its entry moved a week on


async def test_refreshes_are_paced_and_stay_within_the_tenants_share(redis_url: str) -> None:
    clock = VirtualClock(NOW)
    sb = Sandbox(seed=True, clock=clock)
    async with replicas(redis_url, sb, 1, rate="2/minute") as [keepalive]:
        await signed_in(sb, keepalive)
        sb.advance(6.5 * DAY)
        clock.sleeps.clear()
        done = await keepalive.round()
        assert (done["refreshed"], done["deferred"]) == (2, 2)  # the rest waits for the next round
        assert clock.sleeps == [30.0, 30.0]  # 2/minute: one every 30 s

    # The tenant's fair-use share counts too: what users took is not there for the keep-alive.
    sb = Sandbox(seed=True, clock=VirtualClock(NOW))
    async with replicas(redis_url, sb, 1, tenant="3/minute") as [keepalive]:
        await signed_in(sb, keepalive)
        await keepalive.quota.check(subject(DEMO_USER_OPEN_ID))  # a user's request to Feishu
        sb.advance(6.5 * DAY)
        done = await keepalive.round()
        assert (done["refreshed"], done["deferred"]) == (2, 2)


async def test_a_refused_refresh_marks_the_grant_and_the_user_signs_in_again(redis_url: str) -> None:
    async with in_process_team(redis_url, clock=VirtualClock(NOW)) as team:
        user = team.user(DEMO_USER_OPEN_ID)
        async with team.session(user) as client:
            assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID
            sb = team.sb
            sb.revoke_refresh_tokens(DEMO_USER_OPEN_ID)  # the user removed the app's access in Feishu
            sb.advance(6.5 * DAY)
            done = await team.replica.keepalive.round()
            assert done["signed_out"] == 1
            grant = await team.replica.grants.store.get(subject(DEMO_USER_OPEN_ID))
            assert grant is not None and grant.status == NEEDS_REAUTH
            # The next request is refused; the assistant runs the sign-in again, and it works.
            assert user.hops.count("/authorize") == 1
            assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID
            assert user.hops.count("/authorize") == 2
        grant = await team.replica.grants.store.get(subject(DEMO_USER_OPEN_ID))
        assert grant is not None and grant.status == ACTIVE


async def test_the_loop_runs_in_the_replica_and_stops_with_it(redis_url: str) -> None:
    clock = TickClock(NOW)
    async with in_process_team(redis_url, clock=clock, keepalive="on") as team:
        async with team.session(team.user(DEMO_USER_OPEN_ID)) as client:
            await whoami(client)
        await clock.parked_again(0)  # the first wait: a random part of an interval
        assert 0 <= clock.sleeps[0] <= team.config.keepalive_interval
        team.sb.advance(6.5 * DAY)
        arrivals = clock.arrivals
        clock.tick()
        await clock.parked_again(arrivals)  # one round done, now pacing
        assert team.sb.stats.token_grants["refresh_token"] == 1
        arrivals = clock.arrivals
        clock.tick()
        await clock.parked_again(arrivals)  # waiting for the next round, jittered
        assert 0.5 * 600 <= clock.sleeps[-1] <= 1.5 * 600
    # Shutdown cancelled the parked loop: the lifespan ended, no task or warning was left behind.
    assert team.sb.stats.token_grants["refresh_token"] == 1


async def test_off_switch_and_its_setting(redis_url: str) -> None:
    clock = TickClock(NOW)
    async with in_process_team(redis_url, clock=clock, keepalive="off"):
        await anyio.lowlevel.checkpoint()
        assert clock.arrivals == 0  # never started
    base = {"public_url": PUBLIC, "redis_url": redis_url, "token_key": GrantCipher.new_key()}
    assert TeamConfig.load({}, **base).keepalive is True
    assert TeamConfig.load({"FEISHU_KEEPALIVE": "off"}, **base).keepalive is False
    with pytest.raises(TeamConfigError, match="FEISHU_KEEPALIVE='sometimes': write on or off"):
        TeamConfig.load({"FEISHU_KEEPALIVE": "sometimes"}, **base)
    with pytest.raises(ValueError, match="FEISHU_KEEPALIVE_RATE"):
        TeamConfig.load({"FEISHU_KEEPALIVE_RATE": "lots"}, **base)
