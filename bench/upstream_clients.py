"""CPU per upstream request for candidate HTTP client stacks, interleaved, as ratios to today's.

    python -m bench.upstream_clients [--blocks N]

One get_event request (GET …/events/{id}, JSON parsed) against the fake Feishu of
bench.upstream, in this process: httpx2 on its own transport with ``base_url`` (the server
before server/http_engine.py, and its fallback), httpx2 on its own transport with a plain URL,
httpx2 on server.http_engine's aiohttp transport (what the server uses now) with ``base_url``
and with a plain URL, and aiohttp alone (the floor of that engine). Blocks of 100 requests
rotate between the candidates, each block after a burst of 8 concurrent requests, like the
server's pool at c=8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx2

from bench.run import Config, discover, start_upstream
from bench.upstream import EVENTS
from server.http_engine import AiohttpTransport


async def candidates(base: str, path: str, token: str) -> tuple[dict[str, Callable[[], Awaitable[Any]]], list[Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx2.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=60)
    with_base = httpx2.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=20)
    plain = httpx2.AsyncClient(headers=headers, limits=limits, timeout=20)
    engine_base = httpx2.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=20, transport=AiohttpTransport(limits)
    )
    engine_plain = httpx2.AsyncClient(headers=headers, limits=limits, timeout=20, transport=AiohttpTransport(limits))
    session = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=32))

    async def httpx2_base_url() -> Any:
        return (await with_base.get(path)).json()

    async def httpx2_plain_url() -> Any:
        return (await plain.get(base + path)).json()

    async def aiohttp_engine_base_url() -> Any:
        return (await engine_base.get(path)).json()

    async def aiohttp_engine_plain_url() -> Any:
        return (await engine_plain.get(base + path)).json()

    async def aiohttp_alone() -> Any:
        async with session.get(base + path) as response:
            return json.loads(await response.read())

    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "httpx2, base_url (before)": httpx2_base_url,
        "httpx2, plain URL": httpx2_plain_url,
        "httpx2 on aiohttp, base_url": aiohttp_engine_base_url,
        "httpx2 on aiohttp, plain URL": aiohttp_engine_plain_url,
        "aiohttp alone": aiohttp_alone,
    }
    return calls, [with_base, plain, engine_base, engine_plain, session]


async def measure(blocks: int) -> None:
    upstream, base, hello = start_upstream(Config())
    try:
        calendar_id, event_id = await discover(base, hello["token"])
        path = f"{EVENTS.format(calendar_id=calendar_id)}/{event_id}"
        calls, closers = await candidates(base, path, hello["token"])
        names = list(calls)
        cpu = dict.fromkeys(names, 0.0)
        count = dict.fromkeys(names, 0)
        for call in calls.values():
            for _ in range(50):
                await call()
        print(f"load average {os.getloadavg()}")
        for block in range(blocks):
            for name in names[block % len(names) :] + names[: block % len(names)]:
                started = time.process_time()
                await asyncio.gather(*(calls[name]() for _ in range(8)))
                for _ in range(100):
                    await calls[name]()
                cpu[name] += time.process_time() - started
                count[name] += 108
        today = cpu[names[0]] / count[names[0]]
        for name in names:
            per = cpu[name] / count[name]
            print(f"{name:30s} {per * 1000:.3f} ms CPU a request  ratio {per / today:.2f}")
        print(f"load average {os.getloadavg()}")
        for closer in closers:
            await (closer.aclose() if hasattr(closer, "aclose") else closer.close())
    finally:
        upstream.terminate()
        upstream.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream_clients", description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=12)
    asyncio.run(measure(parser.parse_args(argv).blocks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
