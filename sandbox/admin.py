"""``/_sandbox/…``: drive the sandbox over HTTP (faults, log, tokens, clock, reset).

These routes exist only on ``Sandbox(admin=True)`` (``python -m sandbox --admin``); otherwise the
paths are unknown like any other (99991201). They take and return plain JSON, not Feishu's envelope,
and are never subject to injected faults.

| route | body / effect |
| --- | --- |
| ``GET /_sandbox/log``, ``DELETE /_sandbox/log`` | the request log as JSON / clear it |
| ``GET``, ``POST``, ``DELETE /_sandbox/faults`` | list / add (``{"kind": …, "times": …, …}``) / clear |
| ``POST /_sandbox/rate_limit`` | ``{"per_second": 50, "per_minute": 1000}`` turns the limiter on, nulls off |
| ``POST /_sandbox/expire_tokens`` | every access token expires now |
| ``POST /_sandbox/advance`` | ``{"seconds": 3600}`` moves the clock |
| ``POST /_sandbox/reset`` | back to the initial world |
| ``GET /_sandbox/room_approvals`` | bookings awaiting a room approver: uid, event_id, room_id, approval_reason, due |
| ``POST /_sandbox/room_approvals`` | ``{"uid", "room_id", "answer": "accept" or "decline"}``: approver answers now |
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox import room_booking

if TYPE_CHECKING:
    from sandbox.app import Sandbox

PREFIX = "/_sandbox"
FAULT_OPTIONS = ("times", "probability", "method", "path", "status", "delay", "use_clock", "after_write")
FAULT_OPTIONS_MORE = ("retry_after", "limit", "late_by")

Action = Callable[[dict[str, Any]], Any]


def routes(sb: Sandbox) -> list[BaseRoute]:
    if not sb.admin:
        return []

    def add_fault(body: dict[str, Any]) -> Any:
        options = {k: body[k] for k in (*FAULT_OPTIONS, *FAULT_OPTIONS_MORE) if k in body}
        return dataclasses.asdict(sb.faults.inject(str(body.get("kind", "")), **options))

    def set_rate_limit(body: dict[str, Any]) -> Any:
        per_second, per_minute = body.get("per_second"), body.get("per_minute")
        sb.faults.rate_limit_per_second = int(per_second) if per_second is not None else None
        sb.faults.rate_limit_per_minute = int(per_minute) if per_minute is not None else None
        return {"per_second": sb.faults.rate_limit_per_second, "per_minute": sb.faults.rate_limit_per_minute}

    def advance(body: dict[str, Any]) -> Any:
        sb.advance(float(body.get("seconds", 0)))
        return {"now": sb.clock.now()}

    def approvals(_: dict[str, Any]) -> Any:
        return [
            {
                "uid": p.event.uid,
                "event_id": p.event.event_id,
                "room_id": p.room.room_id,
                "approval_reason": p.room.approval_reason,
                "due": p.room.answer_at,  # when the rule answers accept, on the sandbox clock
            }
            for p in room_booking.pending_approvals(sb.world)
        ]

    def decide(body: dict[str, Any]) -> Any:
        try:
            return sb.decide_approval(str(body.get("uid")), str(body.get("room_id")), str(body.get("answer")))
        except LookupError as exc:
            raise ValueError(str(exc)) from exc

    table: list[tuple[str, str, Action]] = [
        ("GET", "/log", lambda _: [dataclasses.asdict(e) for e in sb.log]),
        ("DELETE", "/log", lambda _: sb.log.clear()),
        ("GET", "/faults", lambda _: [dataclasses.asdict(f) for f in sb.faults.rules]),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", lambda _: sb.faults.clear()),
        ("POST", "/rate_limit", set_rate_limit),
        ("POST", "/expire_tokens", lambda _: sb.expire_access_tokens()),
        ("POST", "/advance", advance),
        ("POST", "/reset", lambda _: sb.reset()),
        ("GET", "/room_approvals", approvals),
        ("POST", "/room_approvals", decide),
    ]
    return [Route(PREFIX + path, _endpoint(action), methods=[method]) for method, path, action in table]


def _endpoint(action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            result = action(body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "result": result})

    return endpoint
