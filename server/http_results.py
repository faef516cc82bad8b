"""A tool result over stateless streamable HTTP, serialised once: the result's JSON goes into the body as it is.

The SDK's stateless (2026-era) POST handler writes its answer with ``model_dump(mode="json")``
and then ``json.dumps``: two more walks of a result we already hold as JSON, 17 ms for a
1,000-event page against the 1.8 ms it took us to encode it (``python -m bench.result_passes``).
Neither step can be reached from the SDK's middleware, so this ASGI layer around the SDK's app
does what ``encode_line`` does on stdio: ``built_once`` (server/results.py) leaves the SDK the
empty placeholder to write, hands the real result to this request's slot, and the placeholder's
small body is filled with the result's bytes on the way out. The client receives the same
JSON-RPC response, key for key.

Only requests the SDK serves in a single exchange are touched (a POST naming a post-handshake
protocol version, the SDK's own routing rule): their answer always leaves through this very ASGI
call, in one ``application/json`` body or as the last event of the request's SSE stream. A
handshake-era request (sessions, a reply that may leave on another request's stream) gets no
slot, and ``built_once`` puts the whole result in as before.
"""

from __future__ import annotations

import json
import logging

import pydantic_core
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.results import SLOT, ResultSlot, result_json

log = logging.getLogger("feishu_calendar_mcp.http")

_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.lower().encode("ascii")
_SSE_HEAD, _SSE_TAIL = b"event: message\r\ndata: ", b"\r\n\r\n"  # the SDK's one-event frame


def _single_exchange(scope: Scope) -> bool:
    """The SDK's routing rule: a protocol version header naming no handshake-era version."""
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    version = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == _VERSION_HEADER), None)
    return version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS


def filled(body: bytes, slot: ResultSlot) -> bytes | None:
    """The SDK's placeholder response with the slot's result in it, or None if ``body`` is not that response."""
    prebuilt = slot.prebuilt
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if prebuilt is None or not isinstance(message, dict) or set(message) != {"jsonrpc", "id", "result"}:
        return None
    result = message["result"]
    if message["id"] != slot.request_id or not isinstance(result, dict) or result.get("structuredContent") != {}:
        return None
    blocks = result.get("content")
    if not isinstance(blocks, list) or len(blocks) != 1 or blocks[0] != {"type": "text", "text": ""}:
        return None
    result["structuredContent"] = prebuilt  # and the empty text block is filled with its JSON too
    head = b'{"jsonrpc":' + pydantic_core.to_json(message["jsonrpc"]) + b',"id":' + pydantic_core.to_json(message["id"])
    return result_json(result, prebuilt, head=head + b',"result":', tail=b"}", fill=True)


def _failed(slot: ResultSlot) -> bytes:
    """What is sent if the placeholder cannot be found: an error the client sees, never an empty result."""
    log.error("a tool result could not be put into its HTTP answer (request id %r)", slot.request_id)
    error = {"code": -32603, "message": "the server could not write this tool result; call the tool again"}
    return pydantic_core.to_json({"jsonrpc": "2.0", "id": slot.request_id, "error": error})


class ResultsWrittenOnce:
    """ASGI middleware around the SDK's streamable HTTP app (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _single_exchange(scope):
            await self.app(scope, receive, send)
            return
        slot = ResultSlot()
        scope[SLOT] = slot
        held: list[Message] = []  # the JSON answer's start, until its whole body (and length) is known
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            if slot.prebuilt is None:  # nothing of ours to put in: as the SDK wrote it
                await send(message)
                return
            if message["type"] == "http.response.start" and _is_json(message):
                held.append(message)
                return
            if message["type"] == "http.response.body" and held:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = filled(b"".join(chunks), slot) or _failed(slot)
                start = held.pop()
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # The last event of the request's SSE stream carries the response.
                frame = message.get("body", b"")
                inner = frame[len(_SSE_HEAD) : -len(_SSE_TAIL)] if frame.startswith(_SSE_HEAD) else b""
                body = b"".join((_SSE_HEAD, filled(inner, slot) or _failed(slot), _SSE_TAIL))
            else:  # the SSE stream's start, pings and notifications
                await send(message)
                return
            slot.prebuilt = None  # written: the page is not kept for the rest of the request
            await send({**message, "body": body, "more_body": False})

        await self.app(scope, receive, sending)


def _is_json(start: Message) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in start["headers"])
