"""Smoke tests of the benchmark harness: its parts run (no timings are asserted)."""

from __future__ import annotations

import json
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
        sent = []
        for _ in range(3):
            response = await http.post(PRIMARY)
            assert response.json()["code"] == 0
            sent.append(response.request)
        stats = (await http.get(STATS_PATH)).json()
    last = stats["127.0.0.1"].pop("last_request")
    head = stats["127.0.0.1"].pop("head_bytes")
    assert stats == {"127.0.0.1": {"connections": 1, "requests": 3}}
    # What a server's requests cost the upstream to read (bench.lark): the request line and headers.
    assert head == sum(
        len(f"POST {PRIMARY} HTTP/1.1\r\n") + sum(len(k) + len(v) + 4 for k, v in r.headers.raw) + 2 for r in sent
    )
    assert last["method"] == "POST" and last["path"] == PRIMARY and last["query"] == ""
    assert f"authorization ({len(headers['Authorization'])} B)" in last["headers"]
    assert sb.demo_token not in json.dumps(last)  # header values are never kept, only their sizes
    before = {"127.0.0.1": {"connections": 1, "requests": 3}}
    assert report.connection_delta(before, stats, 3)["ours"]["new_connections_per_call"] == 0


async def test_the_page_calendar_lists_a_thousand_events_in_one_answer() -> None:
    from bench.upstream import EVENTS, PAGE_CALENDAR_ID, PAGE_EVENTS, add_page_calendar

    sb = Sandbox(seed=True)
    add_page_calendar(sb)
    headers = {"Authorization": f"Bearer {sb.demo_token}"}
    async with httpx2.AsyncClient(transport=sb.transport(), base_url="http://upstream", headers=headers) as http:
        page = (await http.get(EVENTS.format(calendar_id=PAGE_CALENDAR_ID), params={"page_size": 1000})).json()
    assert page["code"] == 0 and len(page["data"]["items"]) == PAGE_EVENTS and not page["data"]["has_more"]


def test_the_official_server_is_pinned_by_a_lock_file_and_skipped_without_npm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from bench import lark

    lock = json.loads((lark.LOCK_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@larksuiteoapi/lark-mcp"]["version"] == "0.5.1"
    assert lock["packages"]["node_modules/@larksuiteoapi/lark-mcp"]["integrity"].startswith("sha512-")
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert lark.install(tmp_path) is None
    assert "npm not found" in capsys.readouterr().err
    assert lark.main(["--quick"]) == 0  # says so and measures nothing


def test_result_passes_compares_two_ways_that_send_the_same_line(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import result_passes

    assert result_passes.main(["--events", "9", "--runs", "1"]) == 0  # it checks the lines are equal first
    out = capsys.readouterr().out
    assert out.count("stdio: SDK's way") == 3 and out.count("HTTP:  SDK's way") == 3


def test_gc_cost_compares_the_two_schedules_and_leaves_the_collector_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import gc

    from bench import gc_cost

    threshold = gc.get_threshold()
    assert gc_cost.main(["--calls", "16", "--pages", "1", "--rounds", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("in the collector") == 4
    assert "server/heap.py" in printed and "default" in printed
    assert gc.get_threshold() == threshold and gc.isenabled() and gc.get_freeze_count() == 0


def test_list_cost_compares_two_checkouts_servers(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import list_cost

    assert list_cost.main(["--before", str(procs.ROOT), "--blocks", "2", "--calls", "8"]) == 0
    printed = capsys.readouterr().out
    for figure in ("seq_cpu_ms", "seq_p50_ms", "c8_cpu_ms", "c8_calls_per_s"):
        assert f"list_events {figure}" in printed
    assert printed.startswith("load average at start") and "load average at end" in printed


def test_list_cost_reports_a_side_that_measured_no_cpu(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CPU comes in 10 ms ticks: a short run may measure none for a side (it divided by zero)."""
    from bench import list_cost

    async def measured(*_: object) -> dict[str, dict[str, float]]:
        zero = dict.fromkeys(("seq_cpu_ms", "seq_p50_ms", "c8_cpu_ms", "c8_calls_per_s"), 0.0)
        return {"before": zero, "after": {**zero, "seq_cpu_ms": 1.0}}

    monkeypatch.setattr(list_cost, "measure", measured)
    assert list_cost.main(["--before", str(procs.ROOT)]) == 0
    assert "after/before n/a" in capsys.readouterr().out
