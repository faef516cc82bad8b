"""Team mode under load: N users over 3 replicas for S seconds, fair-use limits on.

    python -m bench.team_load [--users 50] [--seconds 60] [--user-limit 5/second;120/minute]
                              [--tenant-limit 40/second;900/minute] [--json bench/team_results.json]

What runs (all on loopback, this machine only): a private redis-server, the sandbox as Feishu (in
this process, on a loopback port), three replica processes, and a round-robin balancer in the
client (tests/team/cluster.py: the same harness the tests use). Every user signs in through the
real OAuth flow (registration, consent, Feishu sign-in), then runs a closed loop of tool calls
(``get_current_context`` and a one-day ``view_instances`` in turn) with their own token for the
whole duration. A call refused by the fair-use limit waits 0.2 s before the next (a polite
client); every other failure is counted as an error.

Reported: calls/s (all, and served), p50/p99 latency of served calls, errors, fair-use refusals,
the requests that reached Feishu (the sandbox's log) per second, and whether each user's limits
held: the most calls one user got served in any one-second and any sixty-second window. (Limits
count requests to Feishu, and one tool call may make more than one, so served calls stay at or
below the limits.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.procs import machine
from bench.redis_server import RedisServer
from sandbox.seed import add_user
from tests.team.browser import MemoryStorage, oauth
from tests.team.cluster import Cluster, cluster

USER_LIMIT = "5/second;120/minute"  # the shipped defaults
TENANT_LIMIT = "40/second;900/minute"
DAY = {"start": "2026-12-01", "end": "2026-12-01"}


async def sign_in(group: Cluster, open_id: str) -> str:
    balancer = group.balancer()
    storage = MemoryStorage()
    try:
        auth = oauth(group.mcp_url, group.user(open_id, balancer), storage)
        async with (
            httpx2.AsyncClient(transport=balancer, auth=auth, timeout=60) as http,
            Client(streamable_http_client(group.mcp_url, http_client=http)) as client,
        ):
            await client.call_tool("get_current_context", {})
    finally:
        await balancer.shutdown()
    assert storage.tokens is not None
    return storage.tokens.access_token


@asynccontextmanager
async def as_user(group: Cluster, token: str) -> AsyncIterator[Client]:
    balancer = group.balancer()
    try:
        async with (
            httpx2.AsyncClient(transport=balancer, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
            Client(streamable_http_client(group.mcp_url, http_client=http)) as client,
        ):
            yield client
    finally:
        await balancer.shutdown()


async def run(users: int, seconds: float, user_limit: str, tenant_limit: str) -> dict[str, Any]:
    served: dict[int, list[float]] = defaultdict(list)  # user -> finish times of served calls
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis")
        redis.start()
        try:
            with cluster(redis.url, Path(tmp), user_limit=user_limit, tenant_limit=tenant_limit) as group:
                open_ids = [f"ou_bench{n:04d}user0000000000000" for n in range(users)]
                for n, open_id in enumerate(open_ids):
                    add_user(group.sb, open_id, f"Bench User {n}")
                tokens: dict[int, str] = {}
                started = time.perf_counter()

                async def one(n: int) -> None:
                    tokens[n] = await sign_in(group, open_ids[n])

                limiter = anyio.CapacityLimiter(10)

                async def limited(n: int) -> None:
                    async with limiter:
                        await one(n)

                async with anyio.create_task_group() as tasks:
                    for n in range(users):
                        tasks.start_soon(limited, n)
                sign_in_seconds = time.perf_counter() - started

                async def loop(n: int, end: float) -> None:
                    async with as_user(group, tokens[n]) as client:
                        turn = 0
                        while time.perf_counter() < end:
                            tool, args = ("view_instances", DAY) if turn % 2 else ("get_current_context", {})
                            turn += 1
                            began = time.perf_counter()
                            result = await client.call_tool(tool, args)
                            finished = time.perf_counter()
                            text = str(result.content)
                            if not result.is_error:
                                outcomes["served"] += 1
                                latencies.append(finished - began)
                                served[n].append(finished)
                            elif "fair-use limit" in text:
                                outcomes["throttled"] += 1
                                await anyio.sleep(0.2)
                            else:
                                outcomes["error"] += 1
                                outcomes[text[:120]] += 1

                upstream_before = len(group.sb.log)
                load_start = time.perf_counter()
                end = load_start + seconds
                async with anyio.create_task_group() as tasks:
                    for n in range(users):
                        tasks.start_soon(loop, n, end)
                elapsed = time.perf_counter() - load_start
                refreshes = group.sb.stats.token_grants["refresh_token"]
                upstream = len(group.sb.log) - upstream_before
        finally:
            redis.stop()

    def busiest(times: list[float], span: float) -> int:
        return max((sum(1 for t in times if s <= t < s + span) for s in times), default=0)

    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    attempts = outcomes["served"] + outcomes["throttled"] + outcomes["error"]
    per_user_total = [len(served[n]) for n in range(users)]
    return {
        "users": users,
        "replicas": 3,
        "seconds": round(elapsed, 1),
        "sign_in_seconds_all_users": round(sign_in_seconds, 1),
        "calls_per_s_attempted": round(attempts / elapsed, 1),
        "calls_per_s_served": round(outcomes["served"] / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(cuts[98] * 1000, 1),
        "served": outcomes["served"],
        "throttled": outcomes["throttled"],
        "errors": outcomes["error"],
        "error_samples": {k: v for k, v in outcomes.items() if k not in ("served", "throttled", "error")},
        "feishu_requests_per_s": round(upstream / elapsed, 1),
        "limits": {"user": user_limit, "tenant": tenant_limit},
        "most_served_to_one_user_in_any_second": max(busiest(served[n], 1.0) for n in range(users)),
        "most_served_to_one_user_in_any_60_s": max(busiest(served[n], 60.0) for n in range(users)),
        "most_served_to_one_user_in_the_run": max(per_user_total),
        "fewest_served_to_one_user_in_the_run": min(per_user_total),
        "tenant_served_per_minute": round(outcomes["served"] / elapsed * 60),
        "feishu_refreshes": refreshes,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--user-limit", default=USER_LIMIT, help="each user's share (FEISHU_USER_RATE_LIMIT)")
    parser.add_argument("--tenant-limit", default=TENANT_LIMIT, help="the tenant's (FEISHU_TENANT_RATE_LIMIT)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = anyio.run(run, args.users, args.seconds, args.user_limit, args.tenant_limit)
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
