"""The benchmark harness: our server against its two floors, on loopback.

    python -m bench.run [--json bench/results.json] [--quick]

It starts the upstream (the sandbox behind a connection counter, see bench.upstream), then
measures, always interleaving the things it compares so that drift hits them alike:
- cold start: spawn to answered ``initialize`` + ``tools/list`` (ours, the SDK floor,
  and ``serve --sandbox`` as a side figure), 10 rounds;
- ``tools/list`` bytes, in total and per tool;
- per-call latency of get_event and list_events over stdio and Streamable HTTP, in blocks
  that rotate between ours, the SDK floor and the upstream floor;
- throughput at concurrency 8; server CPU per call; peak RSS (VmHWM);
- new upstream connections per call, counted at the upstream.
Our server is run as ``python -m server serve`` from this checkout, pointed at the upstream
with the demo token: the real code path, not the in-process sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procs, report
from bench.clients import CallFailed, HttpPeer, StdioPeer, throughput
from bench.upstream import EVENTS, PRIMARY, UpstreamFloor, counts
from server.local_key import load_or_create_key

PY = sys.executable


@dataclass
class Config:
    cold_runs: int = 10
    calls: int = 200
    blocks: int = 10
    warmup: int = 30
    concurrency: int = 8
    throughput_rounds: int = 3
    # The checkout whose server is measured (another one gives "before" figures).
    ours_root: Path = procs.ROOT
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))


@dataclass
class Workload:
    """What one call of each tool is, for ours, the SDK floor and the upstream floor."""

    base_url: str
    token: str
    calendar_id: str
    event_id: str
    root: Path

    def ours(self, tool: str) -> dict[str, Any]:
        if tool == "get_event":
            return {"calendar_id": self.calendar_id, "event_id": self.event_id}
        return {"calendar_id": self.calendar_id, "page_size": 50}

    def upstream(self, tool: str) -> tuple[str, list[tuple[str, str]]]:
        events = EVENTS.format(calendar_id=self.calendar_id)
        if tool == "get_event":
            return f"{events}/{self.event_id}", []
        return events, [("page_size", "50")]

    def server_env(self) -> dict[str, str]:
        return procs.python_env(
            self.root, FEISHU_DOMAIN=self.base_url, FEISHU_USER_ACCESS_TOKEN=self.token, FEISHU_TIMEZONE="Asia/Shanghai"
        )


OURS = [PY, "-m", "server", "serve"]
FLOOR = [PY, "-m", "bench.sdk_floor"]


def start_upstream(cfg: Config) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    port = procs.free_port()
    with (cfg.logs / "upstream.err").open("w") as errlog:  # the child keeps its own copy
        process = subprocess.Popen(
            [PY, "-m", "bench.upstream", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=errlog,
            env=procs.python_env(),
            text=True,
        )
    assert process.stdout is not None
    hello = json.loads(process.stdout.readline())
    procs.wait_for_port(port, process=process)
    return process, f"http://127.0.0.1:{port}", hello


async def discover(base_url: str, token: str) -> tuple[str, str]:
    """The demo user's primary calendar and one event on it."""
    floor = UpstreamFloor(base_url, token)
    try:
        data = await floor.post(PRIMARY)
        calendar_id = data["calendars"][0]["calendar"]["calendar_id"]
        page = await floor.get(EVENTS.format(calendar_id=calendar_id), [("page_size", "50")])
        return calendar_id, page["items"][0]["event_id"]
    finally:
        await floor.close()


async def cold_start(cfg: Config, work: Workload) -> dict[str, Any]:
    kinds = {
        "ours": (OURS, work.server_env(), work.root),
        "sdk_floor": (FLOOR, procs.python_env(), procs.ROOT),
        "ours_sandbox": ([*OURS, "--sandbox"], procs.python_env(work.root, FEISHU_TIMEZONE="Asia/Shanghai"), work.root),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    rss: dict[str, list[float]] = {k: [] for k in kinds}
    # CPU used to get there: unlike wall time, it hardly moves when other work shares the machine.
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    lists: dict[str, bytes] = {}
    order = list(kinds)
    failed: dict[str, str] = {}
    for run in range(cfg.cold_runs):
        for name in order[run % 3 :] + order[: run % 3]:  # rotate who goes first
            if name in failed:
                continue
            argv, env, cwd = kinds[name]
            peer = StdioPeer(name, argv, env, cfg.logs / f"cold-{name}.err", cwd)
            try:
                times[name].append(await peer.start())
                rss[name].append(procs.memory_mib(peer.pid)["peak"])
                cpu[name].append(procs.cpu_seconds(peer.pid))
                lists[name] = peer.tools_list
            except CallFailed as exc:  # the side figure must not sink the run (e.g. no sandbox yet)
                failed[name] = str(exc)
            finally:
                await peer.close()
    return failed | {
        name: {
            "median_s": round(statistics.median(times[name]), 3),
            "min_s": round(min(times[name]), 3),
            "max_s": round(max(times[name]), 3),
            "runs_s": [round(t, 3) for t in times[name]],
            "cpu_median_s": round(statistics.median(cpu[name]), 3),
            "peak_rss_after_start_mib": round(statistics.median(rss[name]), 1),
            "tools_list": report.tools_list_bytes(lists[name]),
        }
        for name in kinds
        if name not in failed
    }


Caller = Callable[[], Awaitable[float]]


async def latency_and_throughput(
    cfg: Config, work: Workload, ours: StdioPeer | HttpPeer, floor: StdioPeer | HttpPeer, upstream: UpstreamFloor
) -> dict[str, Any]:
    """Sequential latency per tool, then throughput at concurrency, for all three, interleaved."""
    out: dict[str, Any] = {}

    def callers(tool: str) -> dict[str, Caller]:
        path, query = work.upstream(tool)
        return {
            "ours": lambda: ours.call(tool, work.ours(tool)),
            "sdk_floor": lambda: floor.call("echo", {"event_id": work.event_id}),
            "upstream_floor": upstream.timed(path, query),
        }

    # Warm up every path, including a concurrent burst, so connection pools are filled.
    for call in callers("get_event").values():
        for _ in range(cfg.warmup):
            await call()
        await throughput(call, cfg.concurrency * 4, cfg.concurrency)
    before_conns = await counts(work.base_url)
    pids = {"ours": ours.pid, "sdk_floor": floor.pid}
    calls_made = 0
    for tool in ("get_event", "list_events"):
        targets = callers(tool)
        samples: dict[str, list[float]] = {name: [] for name in targets}
        cpu: dict[str, float] = dict.fromkeys(pids, 0.0)
        per_block = cfg.calls // cfg.blocks
        names = list(targets)
        for block in range(cfg.blocks):
            for name in names[block % 3 :] + names[: block % 3]:
                pid = pids.get(name)
                cpu_before = procs.cpu_seconds(pid) if pid else 0.0
                for _ in range(per_block):
                    samples[name].append(await targets[name]())
                if pid:
                    cpu[name] += procs.cpu_seconds(pid) - cpu_before
        calls_made += cfg.calls
        out[tool] = {name: procs.percentiles(s) for name, s in samples.items()}
        for name in pids:
            out[tool][name]["cpu_ms_per_call"] = round(cpu[name] / cfg.calls * 1000, 3)
    targets = callers("get_event")
    rates: dict[str, list[float]] = {name: [] for name in targets}
    cpu_tp: dict[str, float] = dict.fromkeys(pids, 0.0)
    for _ in range(cfg.throughput_rounds):
        for name, call in targets.items():
            cpu_before = procs.cpu_seconds(pids[name]) if name in pids else 0.0
            rates[name].append(await throughput(call, cfg.calls, cfg.concurrency))
            if name in pids:
                cpu_tp[name] += procs.cpu_seconds(pids[name]) - cpu_before
        calls_made += cfg.calls
    out["throughput"] = {
        name: {
            "calls_per_s": round(statistics.median(r), 1),
            "runs": [round(x, 1) for x in r],
            **(
                {"cpu_ms_per_call": round(cpu_tp[name] / (cfg.calls * cfg.throughput_rounds) * 1000, 3)}
                if name in pids
                else {}
            ),
        }
        for name, r in rates.items()
    }
    after_conns = await counts(work.base_url)
    out["upstream_connections"] = report.connection_delta(before_conns, after_conns, calls_made)
    out["peak_rss_mib"] = {name: round(procs.memory_mib(pid)["peak"], 1) for name, pid in pids.items()}
    return out


async def stdio_phase(cfg: Config, work: Workload, upstream: UpstreamFloor) -> dict[str, Any]:
    ours = StdioPeer("ours", OURS, work.server_env(), cfg.logs / "stdio-ours.err", work.root)
    floor = StdioPeer("sdk_floor", FLOOR, procs.python_env(), cfg.logs / "stdio-floor.err")
    await ours.start()
    await floor.start()
    try:
        return await latency_and_throughput(cfg, work, ours, floor, upstream)
    finally:
        await ours.close()
        await floor.close()


async def http_phase(cfg: Config, work: Workload, upstream: UpstreamFloor) -> dict[str, Any]:
    started: list[subprocess.Popen[bytes]] = []
    peers: list[HttpPeer] = []
    # Our HTTP transport answers only requests that carry its local key (the SDK floor has none).
    config = cfg.logs / "config"
    key = {"authorization": f"Bearer {load_or_create_key(config)}"}
    try:
        for name, argv, env, cwd, headers in (
            ("ours", OURS, work.server_env() | {"FEISHU_CONFIG_DIR": str(config)}, work.root, key),
            ("sdk_floor", FLOOR, procs.python_env(), procs.ROOT, {}),
        ):
            port = procs.free_port()
            errlog = (cfg.logs / f"http-{name}.err").open("wb")
            process = subprocess.Popen(
                [*argv, "--transport", "http", "--port", str(port)], env=env, cwd=cwd, stderr=errlog, stdout=errlog
            )
            started.append(process)
            peer = HttpPeer(name, f"http://127.0.0.1:{port}/mcp", process.pid, headers)
            peers.append(peer)
            await peer.wait_ready()
        return await latency_and_throughput(cfg, work, peers[0], peers[1], upstream)
    finally:
        for peer in peers:
            await peer.close()
        for process in started:
            procs.stop(process)
            process.wait(10)


async def measure(cfg: Config) -> dict[str, Any]:
    upstream_process, base_url, hello = start_upstream(cfg)
    try:
        calendar_id, event_id = await discover(base_url, hello["token"])
        work = Workload(base_url, hello["token"], calendar_id, event_id, cfg.ours_root)
        results: dict[str, Any] = {
            "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": procs.machine(),
            "upstream": hello["source"],
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(cfg).items() if k != "logs"},
            "load_average_at_start": os.getloadavg(),
        }
        results["cold_start"] = await cold_start(cfg, work)
        upstream = UpstreamFloor(base_url, work.token)
        try:
            results["stdio"] = await stdio_phase(cfg, work, upstream)
            results["http"] = await http_phase(cfg, work, upstream)
        finally:
            await upstream.close()
        results["upstream_totals"] = await counts(base_url)
        results["load_average_at_end"] = os.getloadavg()
        results["targets"] = report.targets(results)
        return results
    finally:
        procs.stop(upstream_process)
        upstream_process.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="benchmark the server against its floors")
    parser.add_argument("--json", type=Path, help="write the results here (e.g. bench/results.json)")
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the harness works")
    parser.add_argument("--ours-root", type=Path, default=procs.ROOT, help="measure the server of this checkout")
    args = parser.parse_args(argv)
    cfg = Config(ours_root=args.ours_root.resolve())
    if args.quick:
        cfg = Config(cold_runs=1, calls=10, blocks=2, warmup=2, throughput_rounds=1, ours_root=cfg.ours_root)
    results = asyncio.run(measure(cfg))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(report.markdown(results))
    print(f"(server logs in {cfg.logs})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
