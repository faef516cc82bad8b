"""The upstream for the benchmarks, and the upstream floor measured against it.

``python -m bench.upstream --port N`` serves the sandbox (the Feishu emulator with its seed
data) on 127.0.0.1, wrapped in a counter of TCP connections and requests per client
address, and prints one JSON line (the demo user token) once it is about to listen.

The floor (:class:`UpstreamFloor`) makes the request our server makes for a tool call,
directly with httpx2 and the same client settings, from a different loopback address
(127.0.0.2) so that the counter tells its connections apart from the server's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import httpx2

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATS_PATH = "/_bench/stats"
FLOOR_ADDRESS = "127.0.0.2"
EVENTS = "/open-apis/calendar/v4/calendars/{calendar_id}/events"
PRIMARY = "/open-apis/calendar/v4/calendars/primary"
# A calendar of the demo user's holding PAGE_EVENTS events: the "1,000-event list" figure.
PAGE_CALENDAR_ID = "feishu.cn_bench0thousand0events@group.calendar.feishu.cn"
PAGE_EVENTS = 1000


class ConnectionCounter:
    """ASGI middleware: distinct (host, port) peers, requests and request-head bytes, per client host.

    Each TCP connection has its own client port, so distinct ports are new connections;
    a keep-alive connection shows up once however many requests it carries. The head bytes
    (request line and headers, as HTTP/1.1 spells them) and the last request's header names
    tell what each server's requests cost the upstream to parse (bench.lark compares them).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.peers: dict[str, set[int]] = defaultdict(set)
        self.requests: dict[str, int] = defaultdict(int)
        self.head_bytes: dict[str, int] = defaultdict(int)
        self.last: dict[str, dict[str, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == STATS_PATH:
                await _send_json(send, self.stats())
                return
            host, port = scope.get("client") or ("?", 0)
            self.peers[host].add(port)
            self.requests[host] += 1
            self.head_bytes[host] += _head_bytes(scope)
            self.last[host] = _described(scope)
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        return {
            host: {
                "connections": len(ports),
                "requests": self.requests[host],
                "head_bytes": self.head_bytes[host],
                "last_request": self.last.get(host, {}),
            }
            for host, ports in self.peers.items()
        }


def _head_bytes(scope: Scope) -> int:
    """The request head's size on the wire: ``METHOD target HTTP/1.1`` and ``name: value`` lines."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
    target += 1 if scope.get("query_string") else 0  # the "?"
    line = len(scope["method"]) + 1 + target + len(" HTTP/1.1\r\n")
    return line + sum(len(name) + 2 + len(value) + 2 for name, value in scope["headers"]) + 2


def _described(scope: Scope) -> dict[str, Any]:
    """A request's method, path, query and header names with each value's length (no value: tokens)."""
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": (scope.get("query_string") or b"").decode("latin-1"),
        "headers": [f"{name.decode('latin-1')} ({len(value)} B)" for name, value in scope["headers"]],
    }


async def _send_json(send: Send, payload: Any, status: int = 200) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _upstream() -> tuple[ASGIApp, str]:
    """The sandbox's ASGI app (seed data, no faults, no rate limit) and the demo user's token."""
    from sandbox import Sandbox
    from sandbox.app import SERVED_LOG_LIMIT

    sb = Sandbox(seed=True)
    sb.log.limit = SERVED_LOG_LIMIT  # a run sends ~30,000 requests: keep what `sandbox` keeps
    add_page_calendar(sb)
    return sb.app, sb.demo_token


def add_page_calendar(sb: Any, count: int = PAGE_EVENTS) -> None:
    """A calendar of the demo user's with ``count`` one-hour events, one a day from the clock's today."""
    from sandbox import eventstore
    from sandbox.seed import DEMO_USER_OPEN_ID, add_shared_calendar
    from sandbox.state import Event, TimeInfo

    add_shared_calendar(
        sb, PAGE_CALENDAR_ID, "Bench: a thousand events", DEMO_USER_OPEN_ID, {DEMO_USER_OPEN_ID: "owner"}
    )
    first = int(sb.clock.now()) // 86400 * 86400 + 9 * 3600
    for n in range(count):
        start = first + n * 86400
        event = Event(
            uid=f"bench{n:06d}uid",
            original_time=0,
            organizer_calendar_id=PAGE_CALENDAR_ID,
            organizer_open_id=DEMO_USER_OPEN_ID,
            start=TimeInfo(timestamp=start, timezone="Asia/Shanghai"),
            end=TimeInfo(timestamp=start + 3600, timezone="Asia/Shanghai"),
            create_time=first - 86400,
            summary=f"Bench event {n} 周会",
            description="One of a thousand: agenda, notes and a link to the team doc.",
        )
        eventstore.save(sb.world, event)


def list_answers(events: int = PAGE_EVENTS) -> tuple[dict[str, bytes], str]:
    """The sandbox's bytes for the two list requests measured in one process, by calendar id, and the token.

    The demo user's 9-event page (``page_size=50``) and the page calendar of ``events`` events in one
    page, from a sandbox whose clock is pinned (the same bytes on every run).
    """
    import anyio

    from sandbox import Sandbox
    from sandbox.seed import DEMO_PRIMARY_CALENDAR_ID
    from server.clock import VirtualClock

    sb = Sandbox(seed=True, clock=VirtualClock(1_795_000_000.0))
    add_page_calendar(sb, events)

    async def fetch() -> dict[str, bytes]:
        out = {}
        async with httpx2.AsyncClient(transport=sb.transport(), base_url="https://open.feishu.cn") as http:
            # Feishu refuses pages under 50.
            for calendar_id, size in ((DEMO_PRIMARY_CALENDAR_ID, 50), (PAGE_CALENDAR_ID, max(events, 50))):
                answer = await http.get(
                    f"/open-apis/calendar/v4/calendars/{calendar_id}/events",
                    params={"page_size": size},
                    headers={"Authorization": f"Bearer {sb.demo_token}"},
                )
                out[calendar_id] = answer.content
        return out

    return anyio.run(fetch), sb.demo_token


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    import uvicorn

    from sandbox.app import WIRE_PARSER
    from server import heap

    heap.starting()
    app, token = _upstream()
    heap.serving()  # as `sandbox` serves: the seed and the 1,000 events frozen out of collections
    print(json.dumps({"token": token, "source": "sandbox"}), flush=True)
    # Access logs off, so that logging does not bill every request (the floor's as well as ours);
    # the sandbox's own HTTP parser, so the headers go out as Feishu spells them.
    app = ConnectionCounter(app)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, http=WIRE_PARSER)
    return 0


class UpstreamFloor:
    """The same request a tool call makes, straight to the upstream with httpx2."""

    def __init__(self, base_url: str, token: str) -> None:
        transport = httpx2.AsyncHTTPTransport(local_address=FLOOR_ADDRESS)
        self.http = httpx2.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx2.Timeout(20.0, connect=5.0),
            limits=httpx2.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=60),
            headers={"Authorization": f"Bearer {token}"},
        )

    async def get(self, path: str, query: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        response = await self.http.get(path, params=list(query))
        envelope: dict[str, Any] = response.json()
        if envelope.get("code") != 0:
            raise RuntimeError(f"upstream floor: {path} -> {envelope.get('code')} {envelope.get('msg')}")
        data: dict[str, Any] = envelope.get("data") or {}
        return data

    async def post(self, path: str) -> dict[str, Any]:
        response = await self.http.post(path)
        envelope: dict[str, Any] = response.json()
        data: dict[str, Any] = envelope.get("data") or {}
        return data

    def timed(self, path: str, query: Sequence[tuple[str, str]] = ()) -> Callable[[], Awaitable[float]]:
        async def call() -> float:
            started = time.perf_counter()
            await self.get(path, query)
            return time.perf_counter() - started

        return call

    async def close(self) -> None:
        await self.http.aclose()


async def counts(base_url: str) -> dict[str, Any]:
    """The counter's figures so far (its own requests are not counted)."""
    async with httpx2.AsyncClient(base_url=base_url) as http:
        stats: dict[str, Any] = (await http.get(STATS_PATH)).json()
        return stats


if __name__ == "__main__":
    sys.exit(main())
