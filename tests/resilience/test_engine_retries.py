"""The retry loop's decisions over a real socket, on each HTTP engine (server/http_engine.py).

tests/resilience/test_timeouts_and_cancel.py checks these rules in process (ASGI); here a server
on loopback never answers or refuses, and the server under test reaches it through aiohttp's
engine or httpx2's own. Both must lead to the same attempts and the same words for the model.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.loopback import Counts, serving
from tests.resilience.upstream import text

pytestmark = pytest.mark.anyio
EVENT = {"calendar_id": "cal_1@x", "event_id": "e1_0"}


@pytest.fixture(params=["aiohttp", "httpx2"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def never_answering(requests: Counts) -> Any:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        requests.requests += 1
        await asyncio.sleep(3600)

    return handler


def on(url: str, engine: str, *, real_clock: bool = False, **settings: Any) -> Any:
    """The server, its requests to ``url`` carried by ``engine``; retry waits virtual unless ``real_clock``."""
    chosen = all_tools_settings(domain=url, http_engine=engine, **settings)
    return build_server(chosen, StaticToken("u-test"), clock=None if real_clock else VirtualClock())


async def test_a_read_that_never_answers_is_retried_on_new_connections_then_reported(engine: str) -> None:
    requests = Counts()
    async with serving(never_answering(requests)) as (url, counts):
        async with Client(on(url, engine, read_timeout=0.1, max_attempts=3)) as client:
            result = await client.call_tool("get_event", EVENT)
        assert result.is_error
        assert requests.requests == 3
        assert counts.connections == 3  # a timed-out connection is closed, never reused
    assert "after 3 attempts" in text(result) and "retry this call in a minute" in text(result)


async def test_an_unsafe_write_that_times_out_is_sent_once_and_reported_unknown(engine: str) -> None:
    requests = Counts()
    async with serving(never_answering(requests)) as (url, _), Client(on(url, engine, read_timeout=0.1)) as client:
        result = await client.call_tool("create_meeting_chat", EVENT)
    assert result.is_error and requests.requests == 1
    assert "may or may not have been made" in text(result) and "call create_meeting_chat again" in text(result)


async def test_the_whole_call_has_a_deadline(engine: str) -> None:
    requests = Counts()
    async with serving(never_answering(requests)) as (url, _):
        server = on(url, engine, real_clock=True, read_timeout=300, call_deadline=0.3)
        async with Client(server) as client:
            result = await client.call_tool("update_event", {**EVENT, "summary": "x"})
    assert result.is_error and requests.requests == 1
    assert "deadline" in text(result) and "may or may not have been applied" in text(result)


async def test_a_refused_connection_is_retried_as_never_sent_and_names_the_address(engine: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again: nothing listens there
    async with Client(on(url, engine, max_attempts=3)) as client:
        # A write that must not be replayed once it may have run: refused connections are retried anyway.
        result = await client.call_tool("create_meeting_chat", EVENT)
    assert result.is_error
    assert "after 3 attempts" in text(result) and "nothing was changed" in text(result)
    assert "ConnectError" in text(result) and url in text(result)
