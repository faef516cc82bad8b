"""Server CPU per list_events call, before against after, over stdio: sequential and at concurrency 8.

    python -m bench.list_cost --before DIR [--after DIR] [--blocks N] [--calls N] [--tool list_events]

Both checkouts' servers (``python -m server serve`` from each) talk to one fake Feishu (bench.upstream)
at once; blocks of calls alternate between them, first one then the other, so load from elsewhere on
the machine lands on both. Each block is ``--calls`` calls of the demo user's 9-event page
(``page_size=50``), one after another, then as many from 8 concurrent workers. Server CPU is
``utime + stime`` from /proc over the block (10 ms ticks). Prints each server's CPU per call and
p50 (sequential) or calls/s (c=8), the after/before ratios, and the load average at start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import tempfile
from pathlib import Path

from bench import procs
from bench.clients import StdioPeer, throughput
from bench.run import OURS, Config, Workload, discover, start_upstream

CONCURRENCY = 8


async def measure(
    roots: dict[str, Path], tool: str, blocks: int, calls: int, logs: Path
) -> dict[str, dict[str, float]]:
    upstream, base_url, hello = start_upstream(Config(logs=logs))
    peers: dict[str, StdioPeer] = {}
    cpu = {(name, kind): 0.0 for name in roots for kind in ("seq", "c8")}
    taken: dict[tuple[str, str], list[float]] = {key: [] for key in cpu}
    try:
        calendar_id, event_id = await discover(base_url, hello["token"])
        for name, root in roots.items():
            work = Workload(base_url, hello["token"], calendar_id, event_id, root)
            peers[name] = StdioPeer(name, OURS, work.server_env(), logs / f"{name}.err", root)
            await peers[name].start()
        arguments = work.ours(tool)
        for peer in peers.values():  # warm: pools, lazy imports, validators
            for _ in range(50):
                await peer.call(tool, arguments)
            await throughput(functools.partial(peer.call, tool, arguments), 4 * CONCURRENCY, CONCURRENCY)
        names = list(peers)
        for block in range(blocks):
            for name in names[block % 2 :] + names[: block % 2]:
                peer = peers[name]
                before = procs.cpu_seconds(peer.pid)
                taken[name, "seq"] += [await peer.call(tool, arguments) for _ in range(calls)]
                middle = procs.cpu_seconds(peer.pid)
                rate = await throughput(functools.partial(peer.call, tool, arguments), calls, CONCURRENCY)
                taken[name, "c8"].append(rate)
                cpu[name, "seq"] += middle - before
                cpu[name, "c8"] += procs.cpu_seconds(peer.pid) - middle
    finally:
        for peer in peers.values():
            await peer.close()
        procs.stop(upstream)
        upstream.wait(10)
        if upstream.stdout is not None:
            upstream.stdout.close()
    return {
        name: {
            "seq_cpu_ms": cpu[name, "seq"] / (blocks * calls) * 1000,
            "seq_p50_ms": statistics.median(taken[name, "seq"]) * 1000,
            "c8_cpu_ms": cpu[name, "c8"] / (blocks * calls) * 1000,
            "c8_calls_per_s": statistics.median(taken[name, "c8"]),
        }
        for name in roots
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_cost", description=__doc__.splitlines()[0])
    procs.add_checkouts(parser, "server")
    parser.add_argument("--blocks", type=int, default=10, help="blocks per server (alternating)")
    parser.add_argument("--calls", type=int, default=200, help="calls per block, sequential and at c=8 each")
    parser.add_argument("--tool", default="list_events", choices=("list_events", "get_event"))
    args = parser.parse_args(argv)
    roots = procs.checkouts(args)
    logs = Path(tempfile.mkdtemp(prefix="bench-list-cost-"))
    print(f"load average at start {os.getloadavg()}")
    figures = asyncio.run(measure(roots, args.tool, args.blocks, args.calls, logs))
    for key in ("seq_cpu_ms", "seq_p50_ms", "c8_cpu_ms", "c8_calls_per_s"):
        before, after = figures["before"][key], figures["after"][key]
        ratio = procs.after_before(before, after)
        print(f"{args.tool} {key:15s} before {before:8.3f}  after {after:8.3f}  after/before {ratio}")
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
