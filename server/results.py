"""A tool result serialised once: our JSON text is both the text block and, on stdio, the wire's structured content.

Left to the SDK, a result dict is walked three more times after we built it: ``_dump_result``
(``model_dump(mode="json")``), the per-version surface check (validate, then dump again), and the
transport's final encoding (~17 ms for a 1,000-event page, against 1.6 ms for our one ``to_json``).
The SDK's middleware is where a tool call's result may be shaped without those passes: the tool
hands the SDK an empty placeholder of the same shape (content one text block, structured content an
object), the SDK checks and shapes that, and ``built_once`` puts the real text and object into the
wire dict it produced. What reaches the client is the same result, key for key.

The object goes in as a ``Prebuilt``: a plain ``dict`` everywhere (the HTTP transport encodes it
like any dict), which also carries its JSON, so the stdio transport writes those bytes as they are
(``encode_line``) instead of walking the object once more. Over stateless streamable HTTP the SDK
would walk it twice more, so there the result goes into the request's ``ResultSlot`` instead, and
server/http_results.py writes it into the answer's body.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pydantic_core
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, JSONRPCMessage, JSONRPCResponse, RequestId, TextContent


class Prebuilt(dict[str, Any]):
    """A result object together with its compact JSON (``json``) and that JSON as text (``text``).

    Never changed after it is made: the bytes and the items must stay the same thing. The text is
    decoded only when asked for (~1.4 ms for a 1,000-event page): the HTTP answer and the stdio
    line are written from the bytes.
    """

    __slots__ = ("_text", "json")

    def __init__(self, data: dict[str, Any], encoded: bytes) -> None:
        super().__init__(data)
        self.json = encoded
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.json.decode()
        return self._text


SLOT = "feishu_calendar_mcp.result_slot"  # the ASGI scope key under which a request's slot travels


@dataclass
class ResultSlot:
    """Where ``built_once`` leaves the result of the one tools/call this request carries."""

    request_id: RequestId | None = None
    prebuilt: Prebuilt | None = None

    def put(self, request_id: RequestId | None, prebuilt: Prebuilt) -> bool:
        """Take the result to write at the end; False if this slot already holds one (never two)."""
        if self.prebuilt is not None:
            return False
        self.request_id, self.prebuilt = request_id, prebuilt
        return True


def slot_of(request: Any) -> ResultSlot | None:
    """The slot of the HTTP request a tool call came in on (a Starlette ``Request``), if it has one."""
    scope = getattr(request, "scope", None)
    slot = scope.get(SLOT) if isinstance(scope, dict) else None
    return slot if isinstance(slot, ResultSlot) else None


# Set by ``built_once`` for the tool call it wraps; a tool run any other way gets None here.
_PENDING: ContextVar[list[Prebuilt] | None] = ContextVar("feishu_calendar_prebuilt", default=None)


def tool_result(data: dict[str, Any]) -> CallToolResult:
    """The successful result of a tool: structured content ``data``, and its compact JSON as the text block."""
    prebuilt = Prebuilt(data, pydantic_core.to_json(data))
    pending = _PENDING.get()
    if pending is None:  # not behind built_once (a direct call): the whole result, the SDK's way
        return CallToolResult(content=[TextContent(type="text", text=prebuilt.text)], structured_content=prebuilt)
    pending.append(prebuilt)
    return CallToolResult(content=[TextContent(type="text", text="")], structured_content={})


async def built_once(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: a tools/call result is shaped by the SDK empty, then filled with what the tool built."""
    if ctx.method != "tools/call":
        return await call_next(ctx)
    # The list is emptied as soon as it is read: asyncio timer handles (aiohttp's read timer among
    # them) keep a copy of the context they were armed in until their deadline, cancelled or not, so
    # a list left holding the result kept every large answer alive for the read timeout (~6.6 MiB
    # more RSS per 1,000-event list in a row on aiohttp's engine).
    pending: list[Prebuilt] = []
    token = _PENDING.set(pending)
    try:
        result = await call_next(ctx)
    finally:
        _PENDING.reset(token)
    if not pending:  # an error, a confirmation asked for, or a tool that is not ours
        return result
    if len(pending) != 1 or not isinstance(result, dict):
        raise RuntimeError("a tool call produced an unexpected result shape")  # never sent half-filled
    prebuilt = pending.pop()
    blocks = result.get("content")
    if result.get("structuredContent") != {} or not isinstance(blocks, list) or len(blocks) != 1:
        raise RuntimeError("the SDK shaped the placeholder result in an unexpected way")
    text_block = blocks[0]
    if not isinstance(text_block, dict) or text_block.get("type") != "text" or text_block.get("text") != "":
        raise RuntimeError("the SDK shaped the placeholder result in an unexpected way")
    slot = slot_of(ctx.request)
    if slot is not None and slot.put(ctx.request_id, prebuilt):
        return result  # the HTTP layer writes the placeholder's body with this result in it (server/http_results.py)
    text_block["text"] = prebuilt.text
    result["structuredContent"] = prebuilt
    return result


def encode_line(message: JSONRPCMessage) -> bytes:
    """One JSON-RPC message as the SDK's stdio transport writes it, newline included.

    A response whose structured content is a ``Prebuilt`` is assembled around its JSON: the same
    bytes ``model_dump_json`` would give, without walking the object again.
    """
    if type(message) is JSONRPCResponse:
        structured = message.result.get("structuredContent")
        if type(structured) is Prebuilt:
            head = b'{"jsonrpc":"2.0","id":' + pydantic_core.to_json(message.id) + b',"result":'
            return result_json(message.result, structured, head=head, tail=b"}\n")
    encoded: bytes = message.__pydantic_serializer__.to_json(message, by_alias=True, exclude_unset=True)
    return encoded + b"\n"


def result_json(
    result: dict[str, Any], structured: Prebuilt, *, head: bytes = b"", tail: bytes = b"", fill: bool = False
) -> bytes:
    """``head``, a tools/call result object as JSON, then ``tail``, in one allocation.

    The structured content ``structured`` is written as the bytes it carries (a 1,000-event line
    is 2 MB: each extra copy of it costs more than the joining), and so is the text block that
    carries the same JSON: the block holding ``structured.text``, or with ``fill`` the empty
    placeholder block, is written from those bytes, escaped as a JSON string.
    """
    parts = [head, b"{"]
    for key, value in result.items():
        if len(parts) > 2:
            parts.append(b",")
        parts += (pydantic_core.to_json(key), b":")
        if value is structured:
            parts.append(structured.json)
        elif key == "content" and _text_of(value, structured, fill):
            parts.append(b"[{")
            for name in value[0]:  # in the block's own order, as a dump would write it
                if name == "type":
                    parts.append(b'"type":"text"')
                else:
                    parts += (b'"text":"', json_string_body(structured.json), b'"')
                parts.append(b",")
            parts[-1] = b"}]"
        else:
            parts.append(pydantic_core.to_json(value, by_alias=True))
    parts += (b"}", tail)
    return b"".join(parts)


def _text_of(blocks: Any, structured: Prebuilt, fill: bool) -> bool:
    """Whether ``blocks`` is the one text block that carries (or, to ``fill``, will carry) ``structured``'s JSON."""
    if type(blocks) is not list or len(blocks) != 1 or type(blocks[0]) is not dict:
        return False
    block = blocks[0]
    if block.keys() != {"type", "text"} or block["type"] != "text":
        return False
    return block["text"] == "" if fill else block["text"] is structured._text


def json_string_body(encoded: bytes) -> bytes:
    """Compact JSON as the inside of a JSON string, the same bytes ``to_json`` gives for its text.

    Compact JSON has no raw control characters (its strings carry them escaped), so only the
    backslash and the quote need escaping: two C-level replaces instead of a character-by-character
    pass (~1 against 3.2 ms for a 1,000-event page).
    """
    return encoded.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
