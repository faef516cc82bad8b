"""Timeouts per attempt and per call, and a cancelled tool call cancelling its Feishu request.

These use a real (short) clock because they are about real waiting, but assert only on what
happened (which requests ran, what the model was told), never on how long it took.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio
EVENT = {"calendar_id": "cal_1@x", "event_id": "e1_0"}
Scope = MutableMapping[str, Any]


class HangingFeishu:
    """An ASGI Feishu that never answers; it records requests that started and were cancelled."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0
        self.first_request = anyio.Event()
        self.all_cancelled = anyio.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.started += 1
        self.first_request.set()
        try:
            await anyio.sleep_forever()
        finally:
            self.cancelled += 1
            if self.cancelled == self.started:
                self.all_cancelled.set()


def server_on(app: HangingFeishu, *, real_clock: bool = False, **settings: Any) -> Any:
    """A server on ``app``; retry waits are virtual unless ``real_clock`` (deadline tests need it)."""
    transport = httpx2.ASGITransport(app=app)
    clock = None if real_clock else VirtualClock()
    return build_server(all_tools_settings(**settings), StaticToken("u-test"), transport=transport, clock=clock)


async def test_cancelling_the_tool_call_cancels_the_feishu_request() -> None:
    app = HangingFeishu()
    async with Client(server_on(app)) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "get_event", EVENT)
            await app.first_request.wait()
            tg.cancel_scope.cancel()  # the client abandons the call: notifications/cancelled
        with anyio.fail_after(10):  # a hang guard, not a timing assertion
            await app.all_cancelled.wait()
    assert app.started == 1
    assert app.cancelled == 1


async def test_a_read_that_never_answers_is_retried_then_reported() -> None:
    app = HangingFeishu()
    async with Client(server_on(app, connect_timeout=0.01, read_timeout=0.05, max_attempts=3)) as client:
        result = await client.call_tool("get_event", EVENT)
    assert result.is_error
    assert app.started == 3
    assert app.cancelled == 3  # every timed-out attempt was cut off upstream too
    message = str(result.content[0].text)  # type: ignore[union-attr]
    assert "after 3 attempts" in message
    assert "retry this call in a minute" in message


async def test_an_unsafe_write_that_times_out_is_sent_once_and_reported_unknown() -> None:
    app = HangingFeishu()
    async with Client(server_on(app, connect_timeout=0.01, read_timeout=0.05)) as client:
        result = await client.call_tool("create_meeting_chat", EVENT)
    assert result.is_error
    assert app.started == 1
    message = str(result.content[0].text)  # type: ignore[union-attr]
    assert "may or may not have been made" in message
    assert "call create_meeting_chat again" in message


async def test_the_whole_call_has_a_deadline() -> None:
    app = HangingFeishu()
    # Each attempt could wait 5 + 300 s; the call as a whole may not take more than 0.2 s.
    async with Client(server_on(app, real_clock=True, read_timeout=300, call_deadline=0.2)) as client:
        result = await client.call_tool("update_event", {**EVENT, "summary": "x"})
    assert result.is_error
    assert app.started == 1
    message = str(result.content[0].text)  # type: ignore[union-attr]
    assert "deadline" in message
    assert "may or may not have been applied" in message  # the cut-off request may have landed


async def test_an_unsafe_write_cut_off_by_the_deadline_is_reported_unknown() -> None:
    app = HangingFeishu()
    async with Client(server_on(app, real_clock=True, read_timeout=300, call_deadline=0.2)) as client:
        result = await client.call_tool("generate_caldav_config", {})
    assert result.is_error
    assert app.started == 1
    message = str(result.content[0].text)  # type: ignore[union-attr]
    assert "may or may not have been made" in message
    assert "CalDAV" in message
