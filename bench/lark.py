"""Ours beside the official Lark MCP server (npm ``@larksuiteoapi/lark-mcp``, pinned), as ratios.

    python -m bench.lark [--rounds N] [--json FILE]

Needs Node and npm: the pinned server is installed into a temporary folder with
``npm ci --ignore-scripts`` from the committed lock file (bench/lark/), so nothing of it runs
at install time and every run gets the same code. Without npm it says so and exits 0.

Both servers talk to the same fake Feishu (the sandbox behind bench.upstream, which also holds
a calendar of 1,000 events), with a user access token (the official one through
``--token-mode user_access_token -u``, its domain through ``-d``). The clients are the thin
JSON-RPC ones of bench.clients, the same for both servers. Every figure is taken in blocks that
alternate between the two servers, first one then the other, so load from elsewhere on the
machine lands on both; each run records the load average at its start and end. Ratios are
ours / theirs: below 1 is better for latency, CPU, bytes, start and memory, above 1 for
throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.budget import Budget, Upstream
from bench.clients import HttpPeer, StdioPeer, throughput
from bench.run import OURS, Config, discover, start_upstream
from bench.upstream import PAGE_CALENDAR_ID
from server.local_key import load_or_create_key

LOCK_DIR = Path(__file__).resolve().parent / "lark"
GET, LIST = "calendar_v4_calendarEvent_get", "calendar_v4_calendarEvent_list"
Peer = StdioPeer | HttpPeer


def install(into: Path) -> Path | None:
    """The pinned official server's entry script, or None (with a message) when npm is missing."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        print("bench.lark: Node/npm not found: the official Lark MCP server is not measured", file=sys.stderr)
        return None
    for name in ("package.json", "package-lock.json"):
        shutil.copy(LOCK_DIR / name, into / name)
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=into,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return into / "node_modules" / "@larksuiteoapi" / "lark-mcp" / "dist" / "cli.js"


@dataclass
class Side:
    """One server: how to start it, and what each measured call is for it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    calls: dict[str, tuple[str, dict[str, Any]]]


def sides(cli: Path, base_url: str, token: str, calendar_id: str, event_id: str, root: Path) -> list[Side]:
    ours_env = procs.python_env(
        root, FEISHU_DOMAIN=base_url, FEISHU_USER_ACCESS_TOKEN=token, FEISHU_TIMEZONE="Asia/Shanghai"
    )
    ours = Side(
        "ours",
        OURS,
        ours_env,
        root,
        {
            "get": ("get_event", {"calendar_id": calendar_id, "event_id": event_id}),
            "list": ("list_events", {"calendar_id": calendar_id, "page_size": 50}),
            "list1000": ("list_events", {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}),
        },
    )
    lark_argv = ["node", str(cli), "mcp", "-a", "cli_bench", "-s", "bench", "-d", base_url]
    lark_argv += [
        "--token-mode",
        "user_access_token",
        "-u",
        token,
        "-t",
        "calendar.v4.calendarEvent.get,calendar.v4.calendarEvent.list",
    ]
    lark = Side(
        "lark",
        lark_argv,
        {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        None,
        {
            "get": (GET, {"path": {"calendar_id": calendar_id, "event_id": event_id}, "useUAT": True}),
            "list": (LIST, {"path": {"calendar_id": calendar_id}, "params": {"page_size": 50}, "useUAT": True}),
            "list1000": (
                LIST,
                {"path": {"calendar_id": PAGE_CALENDAR_ID}, "params": {"page_size": 1000}, "useUAT": True},
            ),
        },
    )
    return [ours, lark]


def _ratio(ours: float, theirs: float) -> float:
    return round(ours / theirs, 2) if theirs else float("nan")


async def cold_starts(pair: list[Side], runs: int, logs: Path) -> dict[str, Any]:
    wall: dict[str, list[float]] = {s.name: [] for s in pair}
    rss: dict[str, list[float]] = {s.name: [] for s in pair}
    sizes: dict[str, float] = {}
    for run in range(runs):
        for side in pair[run % 2 :] + pair[: run % 2]:
            peer = StdioPeer(side.name, side.argv, side.env, logs / f"cold-{side.name}.err", side.cwd)
            wall[side.name].append(await peer.start())
            rss[side.name].append(procs.memory_mib(peer.pid)["peak"])
            sizes[side.name] = len(peer.tools_list)
            await peer.close()
    out = {
        n: {"median_s": round(statistics.median(w), 3), "rss_mib": round(statistics.median(rss[n]), 1)}
        for n, w in wall.items()
    }
    out["tools_list_bytes"] = sizes
    return out


async def per_call(
    peers: dict[str, Peer],
    pair: list[Side],
    cfg: Config,
    rounds: int,
    kinds: tuple[str, ...],
    upstream: Upstream,
    samples_of: dict[str, Any],
) -> dict[str, Any]:
    """Sequential p50, server CPU per call, ping, the 1,000-event list, and throughput at c=8.

    At c=8 the machine's CPU per call is also split among the three processes that share it:
    the server, the upstream and this client (``samples_of`` gets each server's last upstream
    request, header names and sizes, for the report).
    """
    calls = {s.name: s.calls for s in pair}
    out: dict[str, Any] = {}

    def caller(name: str, what: str) -> Callable[[], Awaitable[float]]:
        peer = peers[name]
        if what == "ping":
            return peer.ping
        tool, arguments = calls[name][what]
        return lambda: peer.call(tool, arguments)

    for name in peers:  # warm: pools, lazy imports, JIT
        for what in kinds:
            for _ in range(cfg.warmup):
                await caller(name, what)()
        await throughput(caller(name, "get"), cfg.concurrency * 4, cfg.concurrency)
    names = list(peers)
    per_block = cfg.calls // cfg.blocks
    for what in kinds:
        samples: dict[str, list[float]] = {n: [] for n in names}
        cpu = dict.fromkeys(names, 0.0)
        for block in range(cfg.blocks):
            for name in names[block % 2 :] + names[: block % 2]:
                before = procs.cpu_seconds(peers[name].pid)
                samples[name] += [await caller(name, what)() for _ in range(per_block)]
                cpu[name] += procs.cpu_seconds(peers[name].pid) - before
        out[f"{what}_p50_ms"] = {n: round(statistics.median(s) * 1000, 3) for n, s in samples.items()}
        out[f"{what}_cpu_ms"] = {n: round(cpu[n] / len(samples[n]) * 1000, 3) for n in names}
    big: dict[str, list[float]] = {n: [] for n in names}
    size: dict[str, int] = {}
    for run in range(rounds):
        for name in names[run % 2 :] + names[: run % 2]:
            tool, arguments = calls[name]["list1000"]
            taken, size[name] = await peers[name].sized_call(tool, arguments)
            big[name].append(taken)
    out["list1000_ms"] = {n: round(statistics.median(s) * 1000, 1) for n, s in big.items()}
    out["list1000_bytes"] = size
    for what in ("get", "list"):
        rates: dict[str, list[float]] = {n: [] for n in names}
        budget = {n: Budget() for n in names}
        for run in range(cfg.throughput_rounds):
            for name in names[run % 2 :] + names[: run % 2]:
                async with budget[name].block(peers[name].pid, upstream):
                    rates[name].append(await throughput(caller(name, what), cfg.calls, cfg.concurrency))
        out[f"{what}_c8_calls_per_s"] = {n: round(statistics.median(r), 1) for n, r in rates.items()}
        calls_made = cfg.calls * cfg.throughput_rounds
        for key, figure in Budget.FIGURES.items():
            out[f"{what}_c8_{key}"] = {n: budget[n].per_call(figure, calls_made) for n in names}
        samples_of[what] = {n: budget[n].last_request for n in names}
    out["peak_rss_mib"] = {n: round(procs.memory_mib(p.pid)["peak"], 1) for n, p in peers.items()}
    return out


async def stdio_phase(
    pair: list[Side], cfg: Config, rounds: int, upstream: Upstream, samples_of: dict[str, Any]
) -> dict[str, Any]:
    peers: dict[str, Peer] = {}
    try:
        for side in pair:
            peer = StdioPeer(side.name, side.argv, side.env, cfg.logs / f"stdio-{side.name}.err", side.cwd)
            await peer.start()
            peers[side.name] = peer
        return await per_call(peers, pair, cfg, rounds, ("get", "list", "ping"), upstream, samples_of)
    finally:
        for p in peers.values():
            assert isinstance(p, StdioPeer)
            await p.close()


async def http_phase(
    pair: list[Side], cfg: Config, rounds: int, token: str, upstream: Upstream, samples_of: dict[str, Any]
) -> dict[str, Any]:
    """Streamable HTTP, stateless on both sides: ours in the 2026 form, theirs in the 2025 one.

    Ours answers only requests carrying its local key; theirs takes the user access token from
    each request's Authorization header (over HTTP it ignores ``-u``).
    """
    started: list[subprocess.Popen[bytes]] = []
    peers: dict[str, Peer] = {}
    config = cfg.logs / "config"
    try:
        for side in pair:
            port = procs.free_port()
            if side.name == "ours":
                argv = [*side.argv, "--transport", "http", "--port", str(port)]
                env = side.env | {"FEISHU_CONFIG_DIR": str(config)}
            else:
                argv = [*side.argv, "-m", "streamable", "--host", "127.0.0.1", "-p", str(port)]
                env = side.env
            errlog = (cfg.logs / f"http-{side.name}.err").open("wb")
            process = subprocess.Popen(argv, env=env, cwd=side.cwd, stdout=errlog, stderr=errlog)
            started.append(process)
            procs.wait_for_port(port, process=process)
            bearer = load_or_create_key(config) if side.name == "ours" else token
            headers = {"authorization": f"Bearer {bearer}"}
            url = f"http://127.0.0.1:{port}/mcp"
            peers[side.name] = HttpPeer(side.name, url, process.pid, headers, legacy=side.name != "ours")
        # No ping here: the 2026-07-28 protocol our HTTP side speaks has none.
        return await per_call(peers, pair, cfg, rounds, ("get", "list"), upstream, samples_of)
    finally:
        for p in peers.values():
            assert isinstance(p, HttpPeer)
            await p.close()
        for process in started:
            procs.stop(process)
            process.wait(10)


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cold_start": _ratio(results["cold_start"]["ours"]["median_s"], results["cold_start"]["lark"]["median_s"]),
        "rss_after_start": _ratio(results["cold_start"]["ours"]["rss_mib"], results["cold_start"]["lark"]["rss_mib"]),
    }
    for transport in ("stdio", "http"):
        figures = results[transport]
        out[transport] = {key: _ratio(value["ours"], value["lark"]) for key, value in figures.items()}
    return out


# Issue 13's bar for each ratio (ours / theirs): at most, or (throughput) at least.
TARGETS: dict[str, tuple[str, float]] = {
    "get_c8_calls_per_s": (">=", 1.1),
    "list_c8_calls_per_s": (">=", 1.1),
    "get_p50_ms": ("<=", 1.0),
    "list_p50_ms": ("<=", 1.0),
    "get_c8_cpu_ms": ("<=", 1.0),
    "list_c8_cpu_ms": ("<=", 1.0),
    "get_cpu_ms": ("<=", 1.0),
    "list_cpu_ms": ("<=", 1.0),
    "ping_p50_ms": ("<=", 1.0),
    "list1000_ms": ("<=", 1.0),
    "peak_rss_mib": ("<=", 0.35),
}
LABELS = {
    "get_c8_calls_per_s": "get_event throughput at c=8 (calls/s)",
    "list_c8_calls_per_s": "list_events throughput at c=8 (calls/s)",
    "get_p50_ms": "get_event sequential p50 (ms)",
    "list_p50_ms": "list_events sequential p50 (ms)",
    "get_c8_cpu_ms": "server CPU per get_event at c=8 (ms)",
    "list_c8_cpu_ms": "server CPU per list_events at c=8 (ms)",
    "get_cpu_ms": "server CPU per get_event, sequential (ms)",
    "list_cpu_ms": "server CPU per list_events, sequential (ms)",
    "ping_p50_ms": "ping p50 (ms)",
    "ping_cpu_ms": "server CPU per ping (ms)",
    "list1000_ms": "1,000-event list, median latency (ms)",
    "list1000_bytes": "1,000-event list, answer on the wire (bytes)",
    "peak_rss_mib": "peak RSS after the workload (MiB)",
}
for _tool in ("get_event", "list_events"):
    _what = _tool.split("_")[0]
    LABELS |= {
        f"{_what}_c8_upstream_cpu_ms": f"upstream CPU per {_tool} at c=8 (ms)",
        f"{_what}_c8_client_cpu_ms": f"bench client CPU per {_tool} at c=8 (ms)",
        f"{_what}_c8_machine_cpu_ms": f"machine CPU per {_tool} at c=8: server + upstream + client (ms)",
        f"{_what}_c8_upstream_connections_per_call": f"new upstream connections per {_tool} at c=8",
        f"{_what}_c8_upstream_head_bytes": f"upstream request head per {_tool} (bytes)",
    }


def markdown(results: dict[str, Any]) -> str:
    """One table per transport: ours, theirs, the ratio, issue 13's bar and whether it is met."""
    cold = results["cold_start"]
    lines = [
        f"load average {results['load_average_at_start']} -> {results['load_average_at_end']}",
        "",
        "| figure | ours | official | ratio | bar | met |",
        "|---|---|---|---|---|---|",
        f"| cold start, median (s) | {cold['ours']['median_s']} | {cold['lark']['median_s']} "
        f"| {results['ratios']['cold_start']} | <= 0.6 | {_met(results['ratios']['cold_start'], ('<=', 0.6))} |",
        f"| RSS after start (MiB) | {cold['ours']['rss_mib']} | {cold['lark']['rss_mib']} "
        f"| {results['ratios']['rss_after_start']} | <= 0.35 "
        f"| {_met(results['ratios']['rss_after_start'], ('<=', 0.35))} |",
    ]
    for transport in ("stdio", "http"):
        for key, value in results[transport].items():
            ratio = results["ratios"][transport][key]
            target = TARGETS.get(key)
            bar = f"{target[0]} {target[1]}" if target else "-"
            met = _met(ratio, target) if target else "-"
            label = f"{transport}: {LABELS.get(key, key)}"
            lines.append(f"| {label} | {value['ours']} | {value['lark']} | {ratio} | {bar} | {met} |")
    for transport, per_tool in results.get("upstream_requests", {}).items():
        for what, per_server in per_tool.items():
            for name, request in per_server.items():
                query = f"?{request.get('query')}" if request.get("query") else ""
                lines.append(f"\n{transport} {what}, {name}'s last upstream request: {request.get('method')} {query}")
                lines.append("  " + ", ".join(request.get("headers", [])))
    return "\n".join(lines)


def _met(ratio: float, target: tuple[str, float]) -> str:
    ok = ratio >= target[1] if target[0] == ">=" else ratio <= target[1]
    return "yes" if ok else "**no**"


async def measure(cfg: Config, rounds: int, cli: Path) -> dict[str, Any]:
    upstream, base_url, hello = start_upstream(cfg)
    try:
        calendar_id, event_id = await discover(base_url, hello["token"])
        pair = sides(cli, base_url, hello["token"], calendar_id, event_id, cfg.ours_root)
        results: dict[str, Any] = {
            "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": procs.machine(),
            "config": {"calls": cfg.calls, "blocks": cfg.blocks, "concurrency": cfg.concurrency, "rounds": rounds},
            "load_average_at_start": os.getloadavg(),
        }
        results["cold_start"] = await cold_starts(pair, cfg.cold_runs, cfg.logs)
        fake = Upstream(upstream.pid, base_url)
        results["upstream_requests"] = {"stdio": {}, "http": {}}
        results["stdio"] = await stdio_phase(pair, cfg, rounds, fake, results["upstream_requests"]["stdio"])
        results["load_average_after_stdio"] = os.getloadavg()
        http_samples = results["upstream_requests"]["http"]
        results["http"] = await http_phase(pair, cfg, rounds, hello["token"], fake, http_samples)
        results["load_average_at_end"] = os.getloadavg()
        results["ratios"] = ratios(results)
        return results
    finally:
        procs.stop(upstream)
        upstream.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lark", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the harness works")
    parser.add_argument("--rounds", type=int, default=10, help="1,000-event lists per server")
    args = parser.parse_args(argv)
    cfg = Config(cold_runs=6, calls=400, blocks=10, throughput_rounds=3)
    rounds = args.rounds
    if args.quick:
        cfg, rounds = Config(cold_runs=1, calls=16, blocks=2, warmup=2, throughput_rounds=1), 1
    with tempfile.TemporaryDirectory(prefix="bench-lark-") as folder:
        cli = install(Path(folder))
        if cli is None:
            return 0
        results = asyncio.run(measure(cfg, rounds, cli))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"(logs in {cfg.logs})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
