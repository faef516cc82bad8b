"""Smoke tests of the benchmark harness: its parts run (no timings are asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx2
import pytest

from bench import procs, report
from bench.clients import StdioPeer, throughput
from bench.upstream import PRIMARY, STATS_PATH, ConnectionCounter
from sandbox import Sandbox

pytestmark = pytest.mark.anyio


async def test_sdk_floor_answers_over_stdio(tmp_path: Path) -> None:
    peer = StdioPeer("sdk_floor", [sys.executable, "-m", "bench.sdk_floor"], procs.python_env(), tmp_path / "e")
    try:
        assert await peer.start() > 0
        sizes = report.tools_list_bytes(peer.tools_list)
        assert sizes["tools"] == 1 and sizes["per_tool_bytes"]["echo"] < sizes["result_bytes"]
        assert await throughput(lambda: peer.call("echo", {"event_id": "x"}), 4, 2) > 0
        assert procs.cpu_seconds(peer.pid) >= 0
        assert procs.memory_mib(peer.pid)["peak"] > 0
    finally:
        await peer.close()


async def test_counter_tells_connections_from_requests() -> None:
    sb = Sandbox(seed=True)
    counter = ConnectionCounter(sb.app)
    transport = httpx2.ASGITransport(app=counter, client=("127.0.0.1", 4242))
    headers = {"Authorization": f"Bearer {sb.demo_token}"}
    async with httpx2.AsyncClient(transport=transport, base_url="http://upstream", headers=headers) as http:
        for _ in range(3):
            assert (await http.post(PRIMARY)).json()["code"] == 0
        stats = (await http.get(STATS_PATH)).json()
    assert stats == {"127.0.0.1": {"connections": 1, "requests": 3}}
    before = {"127.0.0.1": {"connections": 1, "requests": 3}}
    assert report.connection_delta(before, stats, 3)["ours"]["new_connections_per_call"] == 0
