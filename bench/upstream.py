"""The upstream for the benchmarks, and the upstream floor measured against it.

``python -m bench.upstream --port N`` serves the sandbox (the Feishu emulator with its seed
data) on 127.0.0.1, wrapped in a counter of TCP connections and requests per client
address, and prints one JSON line (the demo user token) once it is about to listen. If the
sandbox package cannot be served, a minimal stand-in with the same three routes is used
(and the results say so).

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


class ConnectionCounter:
    """ASGI middleware: distinct (host, port) peers and requests, per client host.

    Each TCP connection has its own client port, so distinct ports are new connections;
    a keep-alive connection shows up once however many requests it carries.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.peers: dict[str, set[int]] = defaultdict(set)
        self.requests: dict[str, int] = defaultdict(int)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == STATS_PATH:
                await _send_json(send, self.stats())
                return
            host, port = scope.get("client") or ("?", 0)
            self.peers[host].add(port)
            self.requests[host] += 1
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        return {
            host: {"connections": len(ports), "requests": self.requests[host]} for host, ports in self.peers.items()
        }


async def _send_json(send: Send, payload: Any, status: int = 200) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


STUB_TOKEN = "u-bench-stub-token"
STUB_CALENDAR = "feishu.cn_bench@group.calendar.feishu.cn"


def _stub_event(n: int) -> dict[str, Any]:
    start = 1795500000 + n * 3600
    return {
        "event_id": f"00bench{n:04d}_0",
        "organizer_calendar_id": STUB_CALENDAR,
        "summary": f"Weekly sync {n}",
        "description": "Agenda in the doc.",
        "start_time": {"timestamp": str(start), "timezone": "Asia/Shanghai"},
        "end_time": {"timestamp": str(start + 1800), "timezone": "Asia/Shanghai"},
        "visibility": "default",
        "attendee_ability": "can_see_others",
        "free_busy_status": "busy",
        "location": {"name": "Room 3"},
        "color": -1,
        "reminders": [{"minutes": 5}],
        "status": "confirmed",
        "is_exception": False,
        "create_time": "1795000000",
        "event_organizer": {"user_id": "ou_bench", "display_name": "Bench"},
    }


async def stub_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A stand-in for the sandbox with just the routes the benchmarks call."""
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    prefix = EVENTS.format(calendar_id=STUB_CALENDAR)
    if path == PRIMARY:
        data: dict[str, Any] = {"calendars": [{"calendar": {"calendar_id": STUB_CALENDAR, "type": "primary"}}]}
    elif path == prefix:
        data = {"items": [_stub_event(n) for n in range(20)], "has_more": False, "sync_token": "s1"}
    elif path.startswith(prefix + "/"):
        data = {"event": _stub_event(1)}
    else:
        await _send_json(send, {"code": 404, "msg": "not found"}, 404)
        return
    await _send_json(send, {"code": 0, "msg": "success", "data": data})


def _upstream() -> tuple[ASGIApp, str, str]:
    """The sandbox's ASGI app and demo token, or the stand-in."""
    try:
        # Until the sandbox branch is merged, the package has no Sandbox.
        from sandbox import Sandbox  # type: ignore[attr-defined,unused-ignore]

        sb = Sandbox(seed=True)
        return sb.app, str(sb.demo_token), "sandbox"
    except (ImportError, AttributeError, TypeError):
        return stub_app, STUB_TOKEN, "stub"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    import uvicorn

    app, token, source = _upstream()
    print(json.dumps({"token": token, "source": source}), flush=True)
    # Access logs off, so that logging does not bill every request (the floor's as well as ours).
    uvicorn.run(ConnectionCounter(app), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
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
