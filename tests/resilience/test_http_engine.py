"""The aiohttp engine under httpx2 (server/http_engine.py) fails, times out and connects exactly as httpx2's own.

Each test runs over both engines against a small server on a loopback socket and asserts the same
httpx2 exception: those types are what the retry loop (server/feishu_client.py) decides on, sent
again or not, and what it tells the model. Plus: keep-alive, TLS verification, no hidden resend,
and the same request bytes on the wire.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import h11
import httpx2
import pytest
import yarl
from aiohttp.client_reqrep import ConnectionKey
from multidict import CIMultiDict, CIMultiDictProxy

from server.http_engine import AiohttpTransport, httpx2_error
from tests.resilience.loopback import Counts, Handler, self_signed, serving

pytestmark = pytest.mark.anyio
LIMITS = httpx2.Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=60)
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"code": 0}'


@pytest.fixture(params=["aiohttp", "httpx2"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client(
    engine: str,
    *,
    timeout: httpx2.Timeout | float = 5.0,
    limits: httpx2.Limits = LIMITS,
    trust: ssl.SSLContext | None = None,
) -> httpx2.AsyncClient:
    """The Feishu client's AsyncClient on one engine (``trust``: a context that trusts a test certificate)."""
    if engine == "aiohttp":
        return httpx2.AsyncClient(transport=AiohttpTransport(limits, trust), timeout=timeout, limits=limits)
    return httpx2.AsyncClient(timeout=timeout, limits=limits, verify=trust or True)


def answering(*, then: bytes | None = OK) -> Handler:
    """Reads requests (no body) one after another on a connection and answers each with ``then``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            if then is None:
                await asyncio.sleep(3600)  # never answers (the test's timeout ends it)
                return
            writer.write(then)
            await writer.drain()

    return handler


async def test_a_refused_connection_is_a_connect_error(engine: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with client(engine) as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_tls_handshake_that_never_ends_is_a_connect_timeout(engine: str) -> None:
    with socket.socket() as silent:  # accepts TCP (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"https://127.0.0.1:{silent.getsockname()[1]}/"
        async with client(engine, timeout=httpx2.Timeout(5.0, connect=0.2)) as http:
            with pytest.raises(httpx2.ConnectTimeout):
                await http.get(url)


async def test_no_answer_is_a_read_timeout(engine: str) -> None:
    async with serving(answering(then=None)) as (url, _), client(engine, timeout=httpx2.Timeout(5.0, read=0.2)) as http:
        with pytest.raises(httpx2.ReadTimeout):
            await http.get(url)


async def test_waiting_for_a_free_connection_is_a_pool_timeout(engine: str) -> None:
    one = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
    async with serving(answering(then=None)) as (url, counts), client(engine, limits=one) as http:
        first = asyncio.ensure_future(http.get(url))  # holds the only connection, unanswered
        while counts.connections < 1:
            await asyncio.sleep(0.01)
        with pytest.raises(httpx2.PoolTimeout):
            await http.get(url, timeout=httpx2.Timeout(5.0, pool=0.1))
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert counts.connections == 1  # the second request never got a connection of its own


def raw_reply(reply: bytes, *, reset: bool = False) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if reset:  # SO_LINGER 0: close() sends RST, not FIN
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.write(reply)
        await writer.drain()

    return handler


@pytest.mark.parametrize(
    ("reply", "reset", "expected"),
    [
        (b"", False, httpx2.RemoteProtocolError),  # closed without an answer
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", False, httpx2.RemoteProtocolError),  # cut short
        (b"HTTP/1.1 abc\r\n\r\n", False, httpx2.RemoteProtocolError),  # malformed status line
        (b"\x00\x01garbage\r\n\r\n", False, httpx2.RemoteProtocolError),  # not HTTP at all
        (b"", True, httpx2.ReadError),  # reset by the peer
    ],
    ids=["closed", "cut-short", "bad-status", "not-http", "reset"],
)
async def test_broken_answers_are_the_same_httpx2_errors(
    engine: str, reply: bytes, reset: bool, expected: type[Exception]
) -> None:
    async with serving(raw_reply(reply, reset=reset)) as (url, _), client(engine) as http:
        with pytest.raises(expected) as raised:
            await http.get(url)
    assert type(raised.value) is expected


async def test_a_delete_whose_connection_drops_is_not_sent_again_behind_the_loops_back(engine: str) -> None:
    """aiohttp resends an idempotent request once when a kept-alive connection breaks; ours must not."""
    requests = Counts()

    async def first_answered_then_dropped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        requests.requests += 1
        writer.write(OK)
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the DELETE arrived (it may have run) ...
        requests.requests += 1  # ... and the connection drops with no answer

    async with serving(first_answered_then_dropped) as (url, counts), client(engine) as http:
        assert (await http.get(url)).json() == {"code": 0}
        with pytest.raises(httpx2.RemoteProtocolError):
            await http.delete(url)
        assert requests.requests == 2
        assert counts.connections == 1  # no second connection carried a resend


async def test_connections_are_kept_alive_and_reused(engine: str) -> None:
    async with serving(answering()) as (url, counts), client(engine) as http:
        for _ in range(20):
            assert (await http.get(f"{url}/open-apis/x")).json() == {"code": 0}
        assert counts.connections == 1
        await asyncio.gather(*(http.get(url) for _ in range(8)))
        assert counts.connections <= 8
        before = counts.connections
        await asyncio.gather(*(http.get(url) for _ in range(8)))
        assert counts.connections == before  # the pool's connections carried the second burst


async def test_tls_verification_is_on_and_a_self_signed_server_is_refused(engine: str, tmp_path: Any) -> None:
    server_tls, trusting = self_signed(tmp_path)
    async with serving(answering(), tls=server_tls) as (url, _):
        async with client(engine) as http:
            with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(url)
        async with client(engine, trust=trusting) as http:  # the same server, its certificate trusted
            assert (await http.get(url)).json() == {"code": 0}
    context = AiohttpTransport(LIMITS).ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


async def recorded(engine: str, send: Callable[[httpx2.AsyncClient, str], Awaitable[Any]]) -> list[Any]:
    """What arrives at the server (method, target, headers, body) when ``send`` runs on ``engine``."""
    seen: list[Any] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        head: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
        assert head is not None
        headers = sorted((bytes(k), bytes(v)) for k, v in head.headers)
        seen.append((bytes(head.method), bytes(head.target), headers, body))
        writer.write(OK)
        await writer.drain()

    async with serving(record) as (url, _), client(engine) as http:
        await send(http, url)
    return seen


async def stream() -> AsyncIterator[bytes]:
    for part in (b'{"summary": ', b'"streamed"}'):
        yield part


@pytest.mark.parametrize(
    "send",
    [
        lambda http, url: http.get(f"{url}/open-apis/a%2Fb/x", params=[("page_size", "50"), ("q", "é ü")]),
        lambda http, url: http.post(f"{url}/p", json={"summary": "会议", "n": 1}, headers={"X-Trace": "1"}),
        lambda http, url: http.patch(f"{url}/p", content=b"raw"),
        lambda http, url: http.delete(f"{url}/p"),
        lambda http, url: http.post(f"{url}/open-apis/calendar/v4/calendars/primary"),
        lambda http, url: http.post(f"{url}/p", content=stream()),
    ],
    ids=["get-query", "post-json", "patch-bytes", "delete", "post-empty", "post-streamed"],
)
async def test_the_same_request_reaches_the_server_on_both_engines(
    send: Callable[[httpx2.AsyncClient, str], Awaitable[Any]],
) -> None:
    via_aiohttp = await recorded("aiohttp", send)
    via_httpx2 = await recorded("httpx2", send)

    def without_port(seen: list[Any]) -> list[Any]:  # the servers listen on different ports
        return [(m, t, [h for h in hs if h[0] != b"host"], b) for m, t, hs, b in seen]

    if via_aiohttp[0][0] == b"DELETE":
        # The one difference: aiohttp says "Content-Length: 0" on a DELETE without a body (as
        # `requests` does; RFC 9110 allows it either way). Feishu's DELETEs carry no body.
        assert (b"content-length", b"0") in via_aiohttp[0][2]
        via_aiohttp[0][2].remove((b"content-length", b"0"))

    assert without_port(via_aiohttp) == without_port(via_httpx2)
    assert next(v for k, v in via_aiohttp[0][2] if k == b"host").startswith(b"127.0.0.1:")


def test_every_aiohttp_failure_maps_to_the_httpx2_type_the_retry_loop_decides_on() -> None:
    key = ConnectionKey("open.feishu.cn", 443, True, True, None, None, None, None)
    url = yarl.URL("https://open.feishu.cn/x")
    info = aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    request = httpx2.Request("GET", "https://open.feishu.cn/x")
    cases: list[tuple[BaseException, type[Exception] | None]] = [
        (aiohttp.ConnectionTimeoutError("slow connect"), httpx2.ConnectTimeout),
        (aiohttp.ClientConnectorError(key, OSError(111, "refused")), httpx2.ConnectError),
        (aiohttp.ClientConnectorDNSError(key, OSError(-2, "no such host")), httpx2.ConnectError),
        (aiohttp.ClientProxyConnectionError(key, OSError(111, "refused")), httpx2.ConnectError),
        (aiohttp.SocketTimeoutError("no answer"), httpx2.ReadTimeout),
        (aiohttp.ServerTimeoutError("no answer"), httpx2.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx2.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut short"), httpx2.RemoteProtocolError),
        (aiohttp.ClientResponseError(info, (), status=400, message="bad status"), httpx2.RemoteProtocolError),
        (aiohttp.ClientHttpProxyError(info, (), status=407), httpx2.ProxyError),
        (aiohttp.ClientConnectionResetError("closing transport"), httpx2.WriteError),
        (aiohttp.ClientOSError(104, "reset"), httpx2.ReadError),
        (aiohttp.ClientConnectionError("connection closed"), httpx2.ReadError),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx2.UnsupportedProtocol),
        (aiohttp.InvalidURL("http://[x"), httpx2.UnsupportedProtocol),
        (ValueError("not a network failure"), None),
    ]
    for failure, expected in cases:
        mapped = httpx2_error(failure, request)
        if expected is None:
            assert mapped is None
            continue
        assert type(mapped) is expected, (failure, mapped)
        assert mapped is not None and mapped.request is request
