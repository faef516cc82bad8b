"""The ASGI layer around every route: log id, request log, injected faults, built-in rate limit.

Every response carries ``x-tt-logid`` (Feishu's support handle), including faults and 404s.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from sandbox.faults import ConnectionDropped, Fault, LateRequest
from sandbox.oauth import TOKEN_V2_PATH, TOKEN_V3_PATH
from sandbox.requestlog import LoggedRequest, loggable_headers, parse_body, parse_query
from sandbox.wire import FEISHU_CODE

if TYPE_CHECKING:
    from sandbox.app import Sandbox

# Marks a scope that came through Sandbox.transport() rather than a socket.
IN_PROCESS = "sandbox.in_process"
RATE_LIMITED = 99991400
TOKEN_PATHS = frozenset({TOKEN_V3_PATH, TOKEN_V2_PATH})


class SandboxMiddleware:
    def __init__(self, app: Starlette, sb: Sandbox) -> None:
        self.app = app
        self.sb = sb

    def api_of(self, scope: Scope) -> str:
        """The route template a request hits: Feishu's rate limits count per API, not per URL."""
        for route in self.app.routes:
            if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
                return f"{scope['method']} {route.path}"
        return f"{scope['method']} {scope['path']}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sb = self.sb
        logid = sb.next_logid()
        scope.setdefault("state", {})["logid"] = logid
        raw_body = await _read_body(receive)
        path: str = scope["path"]
        method: str = scope["method"]
        entry = LoggedRequest(
            method=method,
            path=path,
            raw_path=(scope.get("raw_path") or path.encode()).decode("latin-1"),
            query=parse_query(scope.get("query_string", b"")),
            headers=loggable_headers(scope.get("headers", [])),
            body=parse_body(raw_body),
            logid=logid,
        )
        sb.log.record(entry)

        async def replay_body() -> Message:
            return {"type": "http.request", "body": raw_body, "more_body": False}

        async def send_with_logid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"X-Tt-Logid", logid.encode())]}
                entry.status = message["status"]
            elif message["type"] == "http.response.body" and entry.code is None:
                entry.code = _code_in(scope, message.get("body", b""))
            await send(message)

        injectable = not path.startswith("/_sandbox")
        if injectable and sb.faults.late:
            await self.run_late(sb.faults.due())  # held-back requests whose turn came run first
        fault = sb.faults.take(method, path) if injectable else None
        if fault is not None:
            entry.fault = fault.kind
            if fault.kind == "late":
                sb.faults.late.append(LateRequest(method, path, raw_body, dict(scope), fault.late_by))
            if await self._apply(fault, scope, replay_body, send_with_logid):
                return
        # Who calls which API matters only to the built-in limiter, and naming the API takes a
        # match against every route: skipped while the limiter is off (most of the time).
        limiting = sb.faults.rate_limit_per_second is not None or sb.faults.rate_limit_per_minute is not None
        counted = injectable and limiting
        wait = sb.faults.over_limit(_app_of(sb, scope), self.api_of(scope), sb.clock.now()) if counted else None
        if wait is not None:
            entry.fault = "builtin_rate_limit"
            limit = sb.faults.rate_limit_per_second or sb.faults.rate_limit_per_minute or 0
            await _send_json(send_with_logid, 429, _rate_limited_body(), _rate_limit_headers(limit, wait))
            return
        await self.app(scope, replay_body, send_with_logid)

    async def run_late(self, held: list[LateRequest]) -> None:
        """Run held-back requests now, as the server that had queued them finally would.

        Nobody is listening for their answers: only the status and code are kept (``late_runs``).
        """
        for late in held:

            async def body(late: LateRequest = late) -> Message:
                return {"type": "http.request", "body": late.body, "more_body": False}

            async def keep(message: Message, late: LateRequest = late) -> None:
                if message["type"] == "http.response.start":
                    late.status = message["status"]
                elif message["type"] == "http.response.body" and late.code is None:
                    late.code = _code_in(late.scope, message.get("body", b""))

            await self.app(late.scope, body, keep)
            self.sb.faults.late_runs.append(late)

    async def _apply(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> bool:
        """Carry out ``fault``; True when it answered (or dropped) the request itself."""
        if fault.kind == "rate_limit":
            await _send_json(send, 429, _rate_limited_body(), _rate_limit_headers(fault.limit, fault.retry_after))
            return True
        if fault.kind == "server_error":
            if scope["path"] in TOKEN_PATHS:
                # The token endpoint's own failure form (feishu-api.md §7.2: 20050, 20072).
                code, error = (20072, "temporarily_unavailable") if fault.status == 503 else (20050, "server_error")
                body = {"code": code, "error": error, "error_description": "injected failure"}
                await _send_json(send, fault.status, body, {})
            elif fault.status == 500:
                await _send_json(send, 500, {"code": 190003, "msg": "internal error, please retry"}, {})
            else:
                await _send_raw(send, fault.status, b"upstream unavailable", b"text/plain")
            return True
        if fault.kind == "slow":
            if fault.use_clock:
                self.sb.clock.advance(fault.delay)
            else:
                await anyio.sleep(fault.delay)
            return False
        if fault.kind == "late":
            await anyio.sleep(fault.delay)  # held back (see run_late); the client gives up meanwhile
            await _drop(scope, send, connect=False)
            return True
        if fault.kind == "token_expired":
            self.sb.expire_token_of(dict(scope.get("headers", [])).get(b"authorization", b"").decode())
            return False
        if fault.kind == "drop" and fault.after_write:

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
        await _drop(scope, send, connect=fault.kind == "connect_error")
        return True


async def _drop(scope: Scope, send: Send, connect: bool) -> None:
    if scope.get(IN_PROCESS):
        raise ConnectionDropped(connect=connect)
    # Over a socket: promise a body, then fail, so the server closes the connection mid-reply.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]})
    raise ConnectionDropped(connect=connect)


def _app_of(sb: Sandbox, scope: Scope) -> str:
    header = dict(scope.get("headers", [])).get(b"authorization", b"").decode()
    token = sb.world.access_tokens.get(header.partition(" ")[2].strip())
    return token.app_id if token is not None else "anonymous"


def _rate_limited_body() -> dict[str, Any]:
    return {"code": RATE_LIMITED, "msg": "request trigger frequency limit"}


def _rate_limit_headers(limit: int, reset: int) -> dict[str, str]:
    return {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(reset)}


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    extra = [(k.encode(), v.encode()) for k, v in headers.items()]
    await _send_raw(send, status, json.dumps(body).encode(), b"application/json; charset=utf-8", extra)


async def _send_raw(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _code_in(scope: Scope, body: bytes) -> int | None:
    """The envelope's code in a reply: as api_route noted it in the request's state, else from the body
    (the token endpoints, the gateway's own refusals)."""
    code: int | None = scope.get("state", {}).get(FEISHU_CODE)
    return code if code is not None else _code_of(body)


def _code_of(body: bytes) -> int | None:
    """The envelope's code in a reply body, if it has one."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return None
    code = parsed.get("code") if isinstance(parsed, dict) else None
    return code if isinstance(code, int) else None
