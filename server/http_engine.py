"""The engine under the Feishu client's ``httpx2.AsyncClient``: aiohttp's, or httpx2's own.

The request loop (server/feishu_client.py), the per-call ``httpx2.Auth`` (server/feishu_auth.py)
and every test speak httpx2. Only the bytes-on-the-wire part moves: :class:`AiohttpTransport` is
an ``httpx2.AsyncBaseTransport`` that hands each request to aiohttp's connection pool and HTTP
parser (C-accelerated), which costs well under half of httpx2's own transport per request
(bench/upstream_clients.py, docs/benchmarks.md). Nothing here parses HTTP.

What the client's retry and replay rules depend on is kept exactly:

* errors arrive as the httpx2 types they decide on (``_ERRORS``): nothing sent (``ConnectError``,
  ``ConnectTimeout``, ``PoolTimeout``) versus maybe executed (``ReadTimeout``,
  ``RemoteProtocolError``, ``ReadError``/``WriteError``, ``ProxyError``);
* aiohttp's own silent resend of an idempotent request (GET, PUT, DELETE) after a kept-alive
  connection broke is switched off: a DELETE that reached Feishu before the connection dropped
  must reach the retry loop as a failure, which decides with its ``Replay`` rule and remembers
  that the request may have run. httpcore never resends either;
* timeouts are httpx2's, per request: ``connect`` bounds the TCP and TLS handshake, ``read`` the
  wait for each piece of the answer, ``pool`` the wait for a free connection (a semaphore here, so
  that it is a ``PoolTimeout`` as with httpx2). aiohttp has no write timeout: a write that stalls
  is bounded by the client's per-attempt limit (``RetryPolicy.attempt_timeout``), which the loop
  treats as possibly executed, as it treats ``httpx2.WriteTimeout``;
* TLS: the same ``SSLContext`` httpx2 would build (``httpx2.create_ssl_context``, verification on,
  ``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured); there is no way to turn verification off;
* connections are kept alive and reused (``keepalive_expiry``); cookies, redirects, decompression
  and headers stay httpx2's business (aiohttp adds none of its own, keeps no cookies).

:func:`upstream_transport` picks the engine: aiohttp unless the ``http_engine`` setting says
``httpx2``, aiohttp is not importable, the loop is not asyncio's, or the environment names a proxy
for the API's scheme (``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, read once at start-up): proxies
stay with httpx2, which handles every kind (``socks5``, ``NO_PROXY`` rules) as it always did.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    import ssl

    import aiohttp

    from server.settings import Settings

log = logging.getLogger("feishu_calendar_mcp.http")


def _error_table() -> dict[type[BaseException], type[httpx2.TransportError]]:
    """aiohttp's exceptions -> httpx2's; looked up along the raised type's MRO (most specific first)."""
    import aiohttp

    return {
        # Nothing was sent: safe to send again whatever the operation.
        aiohttp.ConnectionTimeoutError: httpx2.ConnectTimeout,  # TCP connect or TLS handshake too slow
        aiohttp.ClientConnectorError: httpx2.ConnectError,  # refused, DNS, TLS refused (certificate) ...
        aiohttp.ServerFingerprintMismatch: httpx2.ConnectError,
        # The request may have reached Feishu.
        aiohttp.SocketTimeoutError: httpx2.ReadTimeout,  # no byte of the answer within `read`
        aiohttp.ServerTimeoutError: httpx2.ReadTimeout,
        aiohttp.ServerDisconnectedError: httpx2.RemoteProtocolError,  # closed without a (whole) answer
        aiohttp.ClientPayloadError: httpx2.RemoteProtocolError,  # body cut short or malformed
        aiohttp.ClientHttpProxyError: httpx2.ProxyError,
        aiohttp.ClientResponseError: httpx2.RemoteProtocolError,  # malformed status line or headers
        aiohttp.ClientConnectionResetError: httpx2.WriteError,  # "cannot write to closing transport"
        aiohttp.ClientOSError: httpx2.ReadError,  # reset once connected
        aiohttp.ClientConnectionError: httpx2.ReadError,
        aiohttp.NonHttpUrlClientError: httpx2.UnsupportedProtocol,
        aiohttp.InvalidURL: httpx2.UnsupportedProtocol,
    }


_ERRORS: dict[type[BaseException], type[httpx2.TransportError]] = {}


def httpx2_error(exc: BaseException, request: httpx2.Request | None = None) -> httpx2.TransportError | None:
    """The httpx2 exception an aiohttp failure stands for (None: not aiohttp's, raise it as is)."""
    if not _ERRORS:
        _ERRORS.update(_error_table())
    for kind in type(exc).__mro__:
        target = _ERRORS.get(kind)
        if target is not None:
            return target(str(exc) or type(exc).__name__, request=request)
    return None


class _Body(httpx2.AsyncByteStream):
    """An aiohttp response's body as httpx2 reads it; closing it gives back the connection and the slot."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx2.Request, done: asyncio.Semaphore) -> None:
        self._response = response
        self._request = request
        self._done: asyncio.Semaphore | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:
            mapped = httpx2_error(exc, self._request)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        # A body read to its end returns the connection to the pool; one cut short closes it.
        self._response.release()
        if self._done is not None:
            self._done.release()
            self._done = None


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """httpx2's transport interface over one ``aiohttp.ClientSession``.

    aiohttp is imported, the TLS context built and the session opened on the first request, not at
    start-up: together ~0.1 s of CPU (aiohttp's connector builds TLS contexts as it is imported) that
    a server's cold start need not wait for.
    """

    def __init__(self, limits: httpx2.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._slots = asyncio.Semaphore(limits.max_connections or 100)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context: httpx2's own default (verification on; there is no way to turn it off)."""
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context(verify=True)
        return self._ssl_context

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        connector = aiohttp.TCPConnector(
            ssl=self.ssl_context,
            limit=self._limits.max_connections or 0,  # our semaphore waits first; this never does
            keepalive_timeout=self._limits.keepalive_expiry or 0,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx2 keeps the cookies
            auto_decompress=False,  # httpx2 decodes Content-Encoding
            trust_env=False,  # proxies are decided once, in upstream_transport (else a thread hop a request)
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),  # httpx2's, or none
        )
        # aiohttp resends a GET/PUT/DELETE once, unseen, when a kept-alive connection turns out broken;
        # the retry loop must see that failure (module docstring). aiohttp's own test client does the same.
        session._retry_connection = False
        return session

    def _timeout(self, timeouts: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"))
        found = self._timeouts.get(key)
        if found is None:
            import aiohttp

            found = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=key[0], sock_read=key[1]
            )
        return found

    async def _slot(self, pool: float | None, request: httpx2.Request) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: no timer to set up
            return
        try:
            async with asyncio.timeout(pool):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx2.PoolTimeout("no free connection within the pool timeout", request=request) from None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        import yarl

        session = self._session = self._session or self._open()
        timeouts: Mapping[str, float | None] = request.extensions.get("timeout", {})
        await self._slot(timeouts.get("pool"), request)
        try:
            body: Any
            headers = request.headers.multi_items()
            try:
                body = request.content or None
            except httpx2.RequestNotRead:
                # A streamed upload: aiohttp sends it as it comes, chunked, and insists on saying so itself.
                body = request.stream
                headers = [(k, v) for k, v in headers if k != "transfer-encoding"]
            sni = request.extensions.get("sni_hostname")
            response = await session.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),  # httpx2 encoded it: the same bytes go out
                headers=headers,
                data=body,
                allow_redirects=False,  # httpx2 follows redirects (or not) itself
                timeout=self._timeout(timeouts),
                server_hostname=sni.decode() if isinstance(sni, bytes) else sni,
            )
        except BaseException as exc:
            self._slots.release()
            mapped = httpx2_error(exc, request) if isinstance(exc, Exception) else None
            if mapped is None:
                raise
            raise mapped from exc
        version = response.version
        extensions: dict[str, Any] = {"http_version": b"HTTP/%d.%d" % (version or (1, 1))}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        return httpx2.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request, self._slots),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (that waits for the first request)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # sys.modules holds None for it: importing it fails
        return False


def _proxied(api_base: str, environ_proxies: Mapping[str, str]) -> bool:
    scheme = httpx2.URL(api_base).scheme
    return bool(environ_proxies.get(scheme) or environ_proxies.get("all"))


def upstream_transport(settings: Settings, limits: httpx2.Limits) -> httpx2.AsyncBaseTransport | None:
    """The transport for the Feishu client: aiohttp's when it may be used, else None (httpx2's own).

    Call it inside the running event loop (the server's lifespan).
    """
    if settings.http_engine == "httpx2":
        log.info("requests to Feishu: httpx2's own transport (FEISHU_HTTP_ENGINE=httpx2)")
        return None
    if not _installed("aiohttp"):
        log.info("aiohttp is not installed: the Feishu client uses httpx2's own transport")
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None  # not on asyncio's loop (trio): aiohttp runs on asyncio only
    if _proxied(settings.api_base, urllib.request.getproxies()):
        log.info("a proxy is set in the environment: the Feishu client uses httpx2's own transport")
        return None
    log.info("requests to Feishu: aiohttp's engine under httpx2")
    return AiohttpTransport(limits)
