"""Before/after of two checkouts' servers, interleaved so that both see the same load.

    python -m bench.ab --before DIR [--after DIR] [--rounds N] [--before-env NAME=VALUE ...]

Prints, for each checkout and the SDK floor, the median cold start (wall and CPU) with a
set token and with a stored login (no token), and, against one sandbox, over stdio: the
server CPU per call and the p50 of ping, get_event and list_events, of a 1,000-event list
(one a round), calls per second with the server CPU per call at concurrency 8, and each
server's peak RSS after its calls. Every round rotates who goes first. This is where the
before/after figures in docs/benchmarks.md come from. ``--before-env``/``--after-env`` add
settings to one side's server (``--before . --before-env FEISHU_HTTP_ENGINE=httpx2`` measures one
checkout's two HTTP engines against each other).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import procs
from bench.clients import StdioPeer, throughput
from bench.run import OURS, PY, Config, Workload, discover, start_upstream
from bench.upstream import PAGE_CALENDAR_ID

CALLS_PER_BLOCK = 100
CONCURRENCY = 8
PAGE_1000 = {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}


def _rotated(items: list[Any], shift: int) -> list[Any]:
    shift %= len(items)
    return items[shift:] + items[:shift]


# Extra environment per side ("before"/"after"), from --before-env/--after-env.
EXTRA_ENV: dict[str, dict[str, str]] = {}


async def cold_starts(roots: dict[str, Path], rounds: int, logs: Path) -> None:
    base = {"FEISHU_TIMEZONE": "Asia/Shanghai", "FEISHU_DOMAIN": "http://127.0.0.1:9"}
    empty_config = str(logs / "no-login")  # a profile directory with no stored login
    kinds: dict[str, tuple[list[str], dict[str, str], Path]] = {}
    for name, root in roots.items():
        extra = {**base, **EXTRA_ENV.get(name, {})}
        kinds[f"{name} (token)"] = (OURS, procs.python_env(root, **extra, FEISHU_USER_ACCESS_TOKEN="u-ab"), root)
        kinds[f"{name} (login)"] = (OURS, procs.python_env(root, **extra, FEISHU_CONFIG_DIR=empty_config), root)
    kinds["sdk floor"] = ([PY, "-m", "bench.sdk_floor"], procs.python_env(), procs.ROOT)
    wall: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for run in range(rounds):
        for name in _rotated(list(kinds), run):
            argv, env, cwd = kinds[name]
            peer = StdioPeer(name, argv, env, logs / "cold.err", cwd)
            wall[name].append(await peer.start())
            cpu[name].append(procs.cpu_seconds(peer.pid))
            await peer.close()
    for name in kinds:
        print(
            f"cold start {name:16s} wall {statistics.median(wall[name]):.3f} s  "
            f"CPU {statistics.median(cpu[name]):.3f} s"
        )


async def per_call(roots: dict[str, Path], rounds: int, logs: Path) -> None:
    """Both orders of start-up: the process started second ran ~0.3 ms/call slower in A/A tests."""
    cpu: dict[tuple[str, str], float] = {}
    samples: dict[tuple[str, str], list[float]] = {}
    for order in (list(roots), list(roots)[::-1]):
        await _per_call_session({name: roots[name] for name in order}, rounds // 2 or 1, logs, cpu, samples)
    for (name, kind), taken in sorted(samples.items(), key=lambda item: (item[0][1], item[0][0])):
        if kind.endswith(" c=8"):  # calls per second of each block; CPU over all its calls
            per = cpu[name, kind] / (len(taken) * CALLS_PER_BLOCK) * 1000
            print(f"{kind:16s} {name:8s} server CPU {per:.3f} ms/call  {statistics.median(taken):.1f} calls/s")
            continue
        per = cpu[name, kind] / len(taken) * 1000
        print(f"{kind:16s} {name:8s} server CPU {per:.3f} ms/call  p50 {statistics.median(taken) * 1000:.3f} ms")


async def _per_call_session(
    roots: dict[str, Path],
    rounds: int,
    logs: Path,
    cpu: dict[tuple[str, str], float],
    samples: dict[tuple[str, str], list[float]],
) -> None:
    upstream, base_url, hello = start_upstream(Config(logs=logs))
    peers: dict[str, StdioPeer] = {}
    try:
        calendar_id, event_id = await discover(base_url, hello["token"])
        for name, root in roots.items():
            work = Workload(base_url, hello["token"], calendar_id, event_id, root)
            env = work.server_env() | EXTRA_ENV.get(name, {})
            peers[name] = StdioPeer(name, OURS, env, logs / f"{name}.err", root)
            await peers[name].start()
        tools = {name: work.ours(name) for name in ("get_event", "list_events")}

        def caller(peer: StdioPeer, kind: str) -> Callable[[], Awaitable[float]]:
            if kind == "ping":
                return peer.ping
            tool, _, _ = kind.partition(" ")
            arguments = PAGE_1000 if kind == "list_events 1000" else tools[tool]
            return lambda: peer.call(tool, arguments)

        for peer in peers.values():
            for kind in ("ping", *tools):
                for _ in range(20):
                    await caller(peer, kind)()
        for run in range(rounds):
            for kind, calls in (
                ("ping", CALLS_PER_BLOCK),
                *((t, CALLS_PER_BLOCK) for t in tools),
                ("list_events 1000", 1),
            ):
                for name in _rotated(list(peers), run):
                    call = caller(peers[name], kind)
                    before = procs.cpu_seconds(peers[name].pid)
                    taken = [await call() for _ in range(calls)]
                    cpu[name, kind] = cpu.get((name, kind), 0.0) + procs.cpu_seconds(peers[name].pid) - before
                    samples.setdefault((name, kind), []).extend(taken)
            for tool in tools:
                for name in _rotated(list(peers), run):
                    call = caller(peers[name], tool)
                    before = procs.cpu_seconds(peers[name].pid)
                    rate = await throughput(call, CALLS_PER_BLOCK, CONCURRENCY)
                    key = (name, f"{tool} c=8")
                    cpu[key] = cpu.get(key, 0.0) + procs.cpu_seconds(peers[name].pid) - before
                    samples.setdefault(key, []).append(rate)
        for name, peer in peers.items():
            print(f"peak RSS {name:8s} {procs.memory_mib(peer.pid)['peak']:.1f} MiB after this session's calls")
    finally:
        for peer in peers.values():
            await peer.close()
        procs.stop(upstream)
        upstream.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    procs.add_checkouts(parser, "server")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--no-cold-starts", action="store_true", help="per-call figures only")
    for side in ("before", "after"):
        parser.add_argument(f"--{side}-env", action="append", default=[], metavar="NAME=VALUE", help="a setting")
    args = parser.parse_args(argv)
    for side in ("before", "after"):
        EXTRA_ENV[side] = dict(item.split("=", 1) for item in getattr(args, f"{side}_env"))
    roots = procs.checkouts(args)
    logs = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    print(f"load average {os.getloadavg()}")
    if not args.no_cold_starts:
        asyncio.run(cold_starts(roots, args.rounds, logs))
    asyncio.run(per_call(roots, args.rounds, logs))
    print(f"load average {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
