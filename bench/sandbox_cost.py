"""The sandbox's CPU per request when it serves as the benchmarks' fake Feishu, before against after.

    python -m bench.sandbox_cost --before DIR [--after DIR] [--blocks N] [--calls N]

Each checkout serves its own sandbox (``python -m bench.upstream``: seed world, the bench's
1,000-event calendar, uvicorn with h11) in its own process. Blocks alternate between the two,
first one then the other, so load from elsewhere on the machine lands on both. A block is
``--calls`` requests from 8 concurrent workers of each kind the benchmarks make:

- ``list``: the demo user's primary calendar, ``GET .../events?page_size=50`` (9 events);
- ``get``: one of its events, ``GET .../events/{event_id}``;
- ``list1000``: the bench calendar's 1,000 events, ``?page_size=1000``.

Sandbox CPU is ``utime + stime`` from /proc over the block (10 ms ticks). The client is this process,
so its CPU is not counted. Prints each side's CPU per request, the after/before ratio, whether both
sides answered every kind byte for byte the same (content type and length too), and the load average at start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from bench import procs
from bench.clients import throughput
from bench.upstream import EVENTS, PAGE_CALENDAR_ID, PRIMARY

CONCURRENCY = 8
KINDS = ("list", "get", "list1000")


class Upstream:
    """One checkout's sandbox, served by that checkout's bench.upstream, and a client for it."""

    def __init__(self, name: str, root: Path, logs: Path) -> None:
        port = procs.free_port()
        with (logs / f"{name}.err").open("w") as errlog:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.upstream", "--port", str(port)],
                stdout=subprocess.PIPE,
                stderr=errlog,
                env=procs.python_env(root),
                cwd=root,
                text=True,
            )
        assert self.process.stdout is not None
        token = json_line(self.process.stdout.readline())["token"]
        procs.wait_for_port(port, process=self.process)
        self.http = httpx2.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        )
        self.paths: dict[str, tuple[str, dict[str, str]]] = {}

    async def discover(self) -> None:
        primary = (await self.http.post(PRIMARY)).json()["data"]["calendars"][0]["calendar"]["calendar_id"]
        listing = EVENTS.format(calendar_id=primary)
        event_id = (await self.http.get(listing, params={"page_size": "50"})).json()["data"]["items"][0]["event_id"]
        self.paths = {
            "list": (listing, {"page_size": "50"}),
            "get": (f"{listing}/{event_id}", {}),
            "list1000": (EVENTS.format(calendar_id=PAGE_CALENDAR_ID), {"page_size": "1000"}),
        }

    def request(self, kind: str) -> Callable[[], Any]:
        path, params = self.paths[kind]

        async def call() -> bytes:
            response = await self.http.get(path, params=params)
            if response.status_code != 200:
                raise RuntimeError(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
            # What the client sees besides the date and log id: the type, the length and the bytes.
            return (
                f"{response.headers['content-type']} {response.headers['content-length']}\n".encode() + response.content
            )

        return call

    async def close(self) -> None:
        await self.http.aclose()
        procs.stop(self.process)
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def json_line(line: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(line)
    return parsed


async def measure(roots: dict[str, Path], blocks: int, calls: int, logs: Path) -> tuple[dict[str, float], bool]:
    sides = {name: Upstream(name, root, logs) for name, root in roots.items()}
    cpu = {(name, kind): 0.0 for name in sides for kind in KINDS}
    try:
        bodies: dict[str, set[bytes]] = {kind: set() for kind in KINDS}
        for side in sides.values():
            await side.discover()
            for kind in KINDS:  # warm up, and keep one answer of each kind to compare
                bodies[kind].add(await side.request(kind)())
                await throughput(side.request(kind), 4 * CONCURRENCY, CONCURRENCY)
        names = list(sides)
        for block in range(blocks):
            for name in names[block % 2 :] + names[: block % 2]:
                side = sides[name]
                for kind in KINDS:
                    before = procs.cpu_seconds(side.process.pid)
                    await throughput(side.request(kind), calls // 10 if kind == "list1000" else calls, CONCURRENCY)
                    cpu[name, kind] += procs.cpu_seconds(side.process.pid) - before
    finally:
        for side in sides.values():
            await side.close()
    per_request = {
        f"{name} {kind}": cpu[name, kind] / (blocks * (calls // 10 if kind == "list1000" else calls)) * 1000
        for name, kind in cpu
    }
    return per_request, all(len(found) == 1 for found in bodies.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_cost", description=__doc__.splitlines()[0])
    procs.add_checkouts(parser, "sandbox")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per side (alternating)")
    parser.add_argument("--calls", type=int, default=1000, help="requests per kind per block (list1000: a tenth)")
    args = parser.parse_args(argv)
    roots = procs.checkouts(args)
    logs = Path(tempfile.mkdtemp(prefix="bench-sandbox-cost-"))
    print(f"load average at start {os.getloadavg()}")
    figures, same = asyncio.run(measure(roots, args.blocks, args.calls, logs))
    for kind in KINDS:
        before, after = figures[f"before {kind}"], figures[f"after {kind}"]
        ratio = procs.after_before(before, after)
        print(f"{kind:9s} sandbox CPU ms/request  before {before:7.3f}  after {after:7.3f}  after/before {ratio}")
    # The seed world is built around the clock's today: both sides started together answer alike.
    print(f"answers byte for byte the same on both sides: {'yes' if same else 'NO'}")
    print(f"load average at end {os.getloadavg()}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
