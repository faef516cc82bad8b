"""Team mode's logs: one JSON object per line, with the request id and the caller's hashed id.

A load balancer's ``X-Request-Id`` is kept (if it looks like one) or a new id is made, echoed in
the response, and stamped on every line logged while that request is handled. The user appears
only as a hash of their subject (never a name, never a token), set once their token is verified.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.state import CALLER_TIMEZONE

REQUEST_ID: ContextVar[str] = ContextVar("fcm_request_id", default="")
USER: ContextVar[str] = ContextVar("fcm_user", default="")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIds:
    """ASGI middleware: a request id for every HTTP request, in the logs and in ``X-Request-Id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        reset_id, reset_user = REQUEST_ID.set(request_id), USER.set("")
        reset_zone = CALLER_TIMEZONE.set("")  # per request, like the user (set by the token verifier)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(reset_id)
            USER.reset(reset_user)
            CALLER_TIMEZONE.reset(reset_zone)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
            "user": USER.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs(level: str) -> None:
    """Every logger (uvicorn's too: it is started with log_config=None) writes JSON lines to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # URLs carry no secrets here, but per-request INFO lines from the HTTP stacks are noise.
    for noisy in ("httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
