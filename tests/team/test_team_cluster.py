"""Three replicas as processes, one redis-server, the sandbox as Feishu, the mcp SDK's OAuth client.

Every request goes to the next replica in turn (tests/team/cluster.py), so registration, consent,
the Feishu callback, the token exchange and the two rounds of a confirmed delete each land on a
different process than the step before.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult
from redis.asyncio import Redis

from bench.redis_server import RedisServer
from sandbox.seed import DEMO_USER_OPEN_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, WANG_FANG_OPEN_ID
from tests.team.browser import MemoryStorage, SignedInUser, oauth
from tests.team.cluster import Cluster, RoundRobin, cluster
from tests.team.harness import whoami
from tests.team.helpers import assert_no_secret, every_value

pytestmark = pytest.mark.anyio
CONCURRENT = 30  # 3 replicas x 10 calls


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not redis_server.running:
        redis_server.start()
    with cluster(redis_server.url, tmp_path_factory.mktemp("replicas")) as group:
        yield group


@asynccontextmanager
async def connect(
    group: Cluster, open_id: str, storage: MemoryStorage | None = None, elicit: Any = None, timezone: str | None = None
) -> AsyncIterator[tuple[Client, RoundRobin, SignedInUser]]:
    balancer = group.balancer()
    user = group.user(open_id, balancer)
    user.timezone = timezone  # what the user picks on the consent page
    auth = oauth(group.mcp_url, user, storage)
    try:
        async with (
            httpx2.AsyncClient(transport=balancer, auth=auth, timeout=60) as http,
            Client(streamable_http_client(group.mcp_url, http_client=http), elicitation_callback=elicit) as client,
        ):
            yield client, balancer, user
    finally:
        await balancer.shutdown()


@asynccontextmanager
async def with_bearer(group: Cluster, token: str) -> AsyncIterator[tuple[Client, RoundRobin]]:
    """A client that only presents ``token`` (no OAuth flow, so calls run truly concurrently)."""
    balancer = group.balancer()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            httpx2.AsyncClient(transport=balancer, headers=headers, timeout=60) as http,
            Client(streamable_http_client(group.mcp_url, http_client=http)) as client,
        ):
            yield client, balancer
    finally:
        await balancer.shutdown()


async def test_sign_in_and_tools_round_robin_with_a_confirmation_on_another_replica(replicas: Cluster) -> None:
    asked: list[str] = []

    async def user_says_yes(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with connect(replicas, DEMO_USER_OPEN_ID, elicit=user_says_yes) as (client, balancer, user):
        for _ in range(3):
            assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID
        made = await client.call_tool(
            "create_event",
            {"summary": "Cluster check", "start": "2026-12-02T10:00+08:00", "end": "2026-12-02T10:30+08:00"},
        )
        assert not made.is_error, made.content
        assert isinstance(made.structured_content, dict)
        event_id = made.structured_content["event"]["event_id"]
        calls_before = sum(1 for _, what in balancer.trail if what == "tools/call")
        deleted = await client.call_tool("delete_event", {"event_id": event_id})
        assert not deleted.is_error, deleted.content
    assert len(asked) == 1  # the user was asked once, by the replica that got the first round
    rounds = [port for port, what in balancer.trail if what == "tools/call"][calls_before:]
    assert len(rounds) == 2 and rounds[0] != rounds[1]  # asked on one replica, answered on another
    assert set(balancer.served) == set(replicas.ports) and min(balancer.served.values()) >= 3
    steps = [
        port for port, what in balancer.trail if what in ("/register", "/consent", "/oauth/feishu/callback", "/token")
    ]
    assert len(set(steps)) == 3  # the sign-in itself crossed every replica
    assert "Test Assistant" in user.consent_pages[0]
    assert replicas.sb.world.events[event_id].deleted


async def test_the_race_three_replicas_ten_calls_each_one_feishu_refresh(replicas: Cluster) -> None:
    storage = MemoryStorage()
    async with connect(replicas, LI_LEI_OPEN_ID, storage) as (client, _, _):
        assert (await whoami(client))["open_id"] == LI_LEI_OPEN_ID
    assert storage.tokens is not None
    async with with_bearer(replicas, storage.tokens.access_token) as (client, balancer):
        await whoami(client)
        before = replicas.sb.stats.token_grants["refresh_token"]
        replicas.sb.expire_access_tokens()  # every Feishu access token dies at once
        users: list[str] = []

        async def call() -> None:
            users.append((await whoami(client))["open_id"])

        async with anyio.create_task_group() as group:
            for _ in range(CONCURRENT):
                group.start_soon(call)
    assert users == [LI_LEI_OPEN_ID] * CONCURRENT
    assert replicas.sb.stats.token_grants["refresh_token"] - before == 1
    assert len(balancer.served) == 3


async def zone_of(client: Client) -> str:
    context = (await client.call_tool("get_current_context", {})).structured_content
    assert isinstance(context, dict)
    return str(context["timezone"])


async def test_isolation_across_replicas(replicas: Cluster) -> None:
    async with (
        connect(replicas, HAN_MEIMEI_OPEN_ID, timezone="Pacific/Kiritimati") as (han, _, _),
        connect(replicas, WANG_FANG_OPEN_ID) as (wang, _, _),
    ):
        for _ in range(3):  # each user's own zone, whichever replica answers (Wang's: the server's)
            assert await zone_of(han) == "Pacific/Kiritimati"
            assert await zone_of(wang) == "Asia/Shanghai"
        made = await han.call_tool(
            "create_event", {"summary": "Han only", "start": "2026-12-03T09:00+08:00", "end": "2026-12-03T09:30+08:00"}
        )
        assert isinstance(made.structured_content, dict)
        event_id = made.structured_content["event"]["event_id"]
        for _ in range(3):  # each of Wang's calls on another replica: never Han's token, never Han's calendar
            assert (await whoami(wang))["open_id"] == WANG_FANG_OPEN_ID
            assert (await wang.call_tool("get_event", {"event_id": event_id})).is_error
            assert not (await han.call_tool("get_event", {"event_id": event_id})).is_error


async def test_redis_restarted_mid_run_loses_no_grant_then_down_is_clear(
    replicas: Cluster, redis_server: RedisServer
) -> None:
    storage = MemoryStorage()
    async with connect(replicas, DEMO_USER_OPEN_ID, storage) as (client, _, user):
        await whoami(client)
        redis_server.restart()
        for _ in range(3):  # every replica, same sign-in: nothing was lost, nobody signs in again
            assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID
        assert len(user.consent_pages) == 1

        redis_server.stop()
        try:
            async with httpx2.AsyncClient(timeout=10) as http:
                for port in replicas.ports:
                    ready = await http.get(f"http://127.0.0.1:{port}/readyz")
                    assert ready.status_code == 503
                    assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            failed = await client.call_tool("get_current_context", {})
            assert failed.is_error
            assert "unreachable" in str(failed.content) and "retry in a minute" in str(failed.content)
        finally:
            redis_server.start()
        assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID  # and back, still signed in
        assert len(user.consent_pages) == 1


async def test_no_secret_in_redis_or_in_debug_logs(replicas: Cluster, redis_server: RedisServer) -> None:
    storage = MemoryStorage()
    async with connect(replicas, DEMO_USER_OPEN_ID, storage) as (client, _, _):
        await whoami(client)
        replicas.sb.expire_access_tokens()
        await whoami(client)  # a refresh: new Feishu tokens written
    assert storage.tokens is not None and storage.client is not None
    world = replicas.sb.world
    secrets = [*world.access_tokens, *world.refresh_tokens, storage.tokens.access_token]
    secrets += [storage.tokens.refresh_token or "", storage.client.client_secret or ""]
    secrets = [s for s in secrets if len(s) >= 12]
    redis = Redis.from_url(redis_server.url)
    try:
        values = await every_value(redis)
    finally:
        await redis.aclose()
    assert len(values) > 10
    assert_no_secret(values, secrets)
    logs = replicas.log_text()
    assert_no_secret([logs.encode()], secrets)
    # The replicas reached Feishu through aiohttp's engine (server/http_engine.py), the refresh included.
    assert "requests to Feishu: aiohttp's engine under httpx2" in logs
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {r["level"] for r in records} >= {"DEBUG", "INFO"}
    signed = [r for r in records if r["user"] and r["request_id"]]
    assert signed and all(len(r["user"]) == 32 for r in signed)  # a hash, never a name or an id
