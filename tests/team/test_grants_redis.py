"""Team mode's grant store on a real redis-server: sealed at rest, rotated keys, one refresh per race."""

from __future__ import annotations

import json

import anyio
import pytest
from redis.asyncio import Redis

from auth.errors import LoginRequired, ReloginRequired
from auth.grant_cipher import GrantCipher, SealError
from auth.grants_redis import (
    NEEDS_REAUTH,
    GrantStoreUnavailable,
    RedisGrantStore,
    SharedGrants,
    reseal_all,
)
from bench.redis_server import RedisServer
from sandbox import Sandbox
from server.clock import VirtualClock
from tests.team.helpers import CREDENTIALS, ENDPOINTS, assert_no_secret, every_value, sandbox_grant

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0  # a pinned clock: nothing here reads the wall clock
SUBJECT = "tenant0:ou_demo"
REPLICAS = 20


def sandbox() -> Sandbox:
    return Sandbox(seed=True, clock=VirtualClock(NOW))


def shared(store: RedisGrantStore, sb: Sandbox, *, at: float) -> SharedGrants:
    return SharedGrants(store, CREDENTIALS, ENDPOINTS, transport=sb.transport(), clock=lambda: at)


def test_seal_binds_the_subject_and_refuses_tampering() -> None:
    cipher = GrantCipher.from_setting(GrantCipher.new_key())
    sealed = cipher.seal(b"payload", "a:1")
    assert cipher.open(sealed, "a:1") == b"payload"
    with pytest.raises(SealError, match="does not open for its subject"):
        cipher.open(sealed, "a:2")
    box = json.loads(sealed)
    box["ct"] = box["ct"][:-2] + ("AA" if not box["ct"].endswith("AA") else "BB")
    with pytest.raises(SealError):
        cipher.open(json.dumps(box), "a:1")
    with pytest.raises(SealError, match="32 bytes"):
        GrantCipher.from_setting("c2hvcnQ")
    with pytest.raises(SealError, match="empty"):
        GrantCipher.from_setting(" , ")


async def test_grants_are_sealed_and_no_token_is_in_redis_in_clear(redis_client: Redis) -> None:
    sb = sandbox()
    record = await sandbox_grant(sb, now=NOW)
    store = RedisGrantStore(redis_client, GrantCipher.from_setting(GrantCipher.new_key()))
    await store.put(SUBJECT, record)
    refreshed = await shared(store, sb, at=NOW + 7200).access_token(SUBJECT)
    stored = await store.get(SUBJECT)
    assert stored is not None and stored.record.access_token == refreshed
    secrets = [record.access_token, record.refresh_token, stored.record.access_token, stored.record.refresh_token]
    assert all(secrets) and refreshed != record.access_token
    values = await every_value(redis_client)
    assert values, "nothing was stored"
    assert_no_secret(values, secrets)
    assert SUBJECT.encode() in b"".join(values)  # the subject is not a secret; the tokens are


async def test_key_rotation_old_seals_open_then_reseal_moves_them_to_the_new_key(redis_client: Redis) -> None:
    old, new = GrantCipher.new_key(), GrantCipher.new_key()
    record = await sandbox_grant(sandbox(), now=NOW)
    await RedisGrantStore(redis_client, GrantCipher.from_setting(old)).put(SUBJECT, record)

    rotated = RedisGrantStore(redis_client, GrantCipher.from_setting(f"{new},{old}"))
    found = await rotated.get(SUBJECT)
    assert found is not None and found.record == record  # the old key still opens its seals
    with pytest.raises(SealError, match="no longer lists"):
        await RedisGrantStore(redis_client, GrantCipher.from_setting(new)).get(SUBJECT)

    assert await reseal_all(rotated) == 1
    assert await reseal_all(rotated) == 0  # already on the new key
    only_new = RedisGrantStore(redis_client, GrantCipher.from_setting(new))
    moved = await only_new.get(SUBJECT)
    assert moved is not None and moved.record == record and moved.version == found.version + 1


async def test_the_race_many_replicas_one_feishu_refresh(redis_url: str) -> None:
    """REPLICAS processes' worth of clients (one Redis connection pool each) find the token expired at once."""
    sb = sandbox()
    cipher = GrantCipher.from_setting(GrantCipher.new_key())
    clients = [Redis.from_url(redis_url) for _ in range(REPLICAS)]
    try:
        first = RedisGrantStore(clients[0], cipher)
        record = await sandbox_grant(sb, now=NOW)
        await first.put(SUBJECT, record)
        sb.expire_access_tokens()
        replicas = [shared(RedisGrantStore(client, cipher), sb, at=NOW + 7200) for client in clients]
        tokens: list[str] = []

        async def call(replica: SharedGrants) -> None:
            tokens.append(await replica.access_token(SUBJECT))

        async with anyio.create_task_group() as group:
            for replica in replicas:
                group.start_soon(call, replica)
        assert sb.stats.token_grants["refresh_token"] == 1
        assert len(set(tokens)) == 1 and tokens[0] != record.access_token
        stored = await first.get(SUBJECT)
        assert stored is not None and stored.record.access_token == tokens[0]
        live = [t.token for t in sb.world.refresh_tokens.values() if not t.used and not t.revoked]
        assert live == [stored.record.refresh_token]  # the newest refresh token is the stored one
        assert sum(r.refreshes for r in replicas) == 1
    finally:
        for client in clients:
            await client.aclose()


async def test_a_rejected_token_is_refreshed_once_even_if_still_fresh_on_the_clock(redis_client: Redis) -> None:
    sb = sandbox()
    store = RedisGrantStore(redis_client, GrantCipher.from_setting(GrantCipher.new_key()))
    record = await sandbox_grant(sb, now=NOW)
    await store.put(SUBJECT, record)
    grants = shared(store, sb, at=NOW)
    fresh, again = await grants.refresh_after_rejection(SUBJECT, record.access_token), None
    again = await grants.refresh_after_rejection(SUBJECT, record.access_token)  # a late second rejection
    assert fresh == again != record.access_token
    assert sb.stats.token_grants["refresh_token"] == 1


async def test_a_dead_refresh_token_marks_the_grant_for_reconsent(redis_client: Redis) -> None:
    sb = sandbox()
    store = RedisGrantStore(redis_client, GrantCipher.from_setting(GrantCipher.new_key()))
    await store.put(SUBJECT, await sandbox_grant(sb, now=NOW))
    sb.revoke_refresh_tokens()
    grants = shared(store, sb, at=NOW + 7200)
    with pytest.raises(ReloginRequired, match="sign in again from your MCP client"):
        await grants.access_token(SUBJECT)
    assert await store.status(SUBJECT) == NEEDS_REAUTH
    with pytest.raises(ReloginRequired):  # and it stays so, without asking Feishu again
        await grants.access_token(SUBJECT)
    assert sb.stats.token_grants["refresh_token"] == 0
    with pytest.raises(LoginRequired):
        await grants.access_token("tenant0:ou_nobody")


async def test_compare_and_set_refuses_a_stale_version(redis_client: Redis) -> None:
    store = RedisGrantStore(redis_client, GrantCipher.from_setting(GrantCipher.new_key()))
    record = await sandbox_grant(sandbox(), now=NOW)
    version = await store.put(SUBJECT, record)
    assert await store.compare_and_set(SUBJECT, version, record)
    assert not await store.compare_and_set(SUBJECT, version, record)  # someone wrote since
    assert (await store.get(SUBJECT)).version == version + 1  # type: ignore[union-attr]


async def test_redis_down_is_a_clear_retryable_error(redis_server: RedisServer, redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    store = RedisGrantStore(client, GrantCipher.from_setting(GrantCipher.new_key()))
    redis_server.stop()
    try:
        with pytest.raises(GrantStoreUnavailable, match=r"unreachable .*retry in a minute"):
            await SharedGrants(store, CREDENTIALS, ENDPOINTS).access_token(SUBJECT)
    finally:
        await client.aclose()
        redis_server.start()
