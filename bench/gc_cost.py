"""What the cyclic garbage collector costs a tool call: CPython's default schedule against server/heap.py's.

    python -m bench.gc_cost [--calls N] [--pages N] [--rounds N]

One process: our server (built as ``serve`` builds it, then frozen) and a real MCP client in memory,
the upstream a canned transport answering with the sandbox's own bytes (so no emulator allocates
here). Each round runs, under each schedule in turn: ``--calls`` list_events of the demo user's
9-event page from 8 concurrent tasks, then ``--pages`` list_events of the 1,000-event page one
after another. ``gc.callbacks`` time every collection. Prints, per call: collections (young / middle
/ full), milliseconds inside the collector, and the process's CPU milliseconds (client included).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx2
from mcp import Client

from bench.upstream import PAGE_CALENDAR_ID, list_answers
from sandbox.seed import DEMO_PRIMARY_CALENDAR_ID
from server import heap
from server.app import build_server
from server.settings import Settings
from server.tokens import StaticToken

CONCURRENCY = 8
DEFAULT_YOUNG_LIMIT = 700  # CPython's


class Canned(httpx2.AsyncBaseTransport):
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        calendar_id = request.url.path.split("/")[5]
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=self.bodies[calendar_id])


class Collections:
    """Counts and times every collection while installed."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began
            self.counts[info["generation"]] += 1


async def measure(client: Client, run: Callable[[], Any], calls: int) -> tuple[list[int], float, float]:
    seen = Collections()
    gc.callbacks.append(seen)
    started = time.process_time()
    await run()
    cpu = time.process_time() - started
    gc.callbacks.remove(seen)
    return seen.counts, seen.seconds / calls * 1000, cpu / calls * 1000


async def bench(args: argparse.Namespace, bodies: dict[str, bytes], token: str) -> None:
    heap.starting()
    settings = Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai"}, toolsets="all")
    server = build_server(settings, StaticToken(token, identity="bench"), transport=Canned(bodies))
    gc.freeze()
    gc.enable()
    small = {"calendar_id": DEMO_PRIMARY_CALENDAR_ID, "page_size": 50}
    large = {"calendar_id": PAGE_CALENDAR_ID, "page_size": 1000}
    async with Client(server) as client:

        async def concurrent() -> None:
            async def worker() -> None:
                for _ in range(args.calls // CONCURRENCY):
                    await client.call_tool("list_events", small)

            async with anyio.create_task_group() as group:
                for _ in range(CONCURRENCY):
                    group.start_soon(worker)

        async def pages() -> None:
            for _ in range(args.pages):
                await client.call_tool("list_events", large)

        await concurrent()  # warm: lazy imports, validators, the rendering cache
        await pages()
        for _ in range(args.rounds):
            for name, young in (("default", DEFAULT_YOUNG_LIMIT), ("server/heap.py", heap.YOUNG_LIMIT)):
                gc.set_threshold(young, *gc.get_threshold()[1:])
                gc.collect()
                for what, run, calls in (
                    ("9-event page, c=8", concurrent, args.calls),
                    ("1,000-event page", pages, args.pages),
                ):
                    counts, gc_ms, cpu_ms = await measure(client, run, calls)
                    per_call = "/".join(f"{n / calls:.3f}" for n in counts)
                    print(
                        f"{name:15s} {what:18s} collections a call {per_call:17s} "
                        f"in the collector {gc_ms:7.3f} ms   CPU {cpu_ms:7.3f} ms a call"
                    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gc_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="9-event lists per round and schedule")
    parser.add_argument("--pages", type=int, default=20, help="1,000-event lists per round and schedule")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average at start {os.getloadavg()}")
    bodies, token = list_answers()
    threshold = gc.get_threshold()
    try:
        anyio.run(bench, args, bodies, token)
    finally:  # the collector as it was (this may run inside another program: the tests)
        gc.unfreeze()
        gc.set_threshold(*threshold)
        gc.enable()
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
