"""Team mode's fixtures: a real redis-server on a free loopback port, started and stopped here.

Without the binary the tests skip locally, naming the package to install; in CI (``CI=true``) they
fail instead: `.ci/run` installs redis-server, so a missing one there is a broken build, not a
reason to test less.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bench.redis_server import RedisServer, RedisUnavailable


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    except RedisUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"team-mode tests need redis-server in CI: {exc}")
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server, emptied for this test (and restarted if an earlier test stopped it)."""
    if not redis_server.running:
        redis_server.start()
    import redis

    with redis.Redis.from_url(redis_server.url) as sync:
        sync.flushall()
    return redis_server.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
