"""The :class:`Sandbox`: state, clock, log, faults and the Starlette app that serves Feishu's routes.

Route modules each export ``routes(sb: Sandbox) -> list[BaseRoute]`` (built with
:func:`sandbox.wire.api_route`); :data:`ROUTE_MODULES` lists them. To add a domain, write a module
and append it there. Use in process through :meth:`Sandbox.transport` / :meth:`Sandbox.client`
(base URL ``https://open.feishu.cn``), or on loopback with :func:`serve` / :func:`running`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from sandbox import (
    access,
    account,
    admin,
    attendees,
    caldav,
    calendars,
    chats,
    event_reads,
    events,
    exchange,
    freebusy,
    meetings,
    oauth,
    people,
    room_booking,
    room_directory,
    room_search,
    rooms,
    scheduling,
    seed,
    seed_directory,
    seed_week,
    subscriptions,
    tokens,
)
from sandbox.faults import ConnectionDropped, Faults
from sandbox.middleware import IN_PROCESS, SandboxMiddleware
from sandbox.requestlog import RequestLog
from sandbox.state import AccessToken, App, RsvpStatus, User, World
from server.clock import Clock, SystemClock

# Order matters where paths overlap: event_reads' /events/search and /events/instance_view
# must come before events' /events/{event_id}.
ROUTE_MODULES: list[ModuleType] = [
    oauth,
    account,
    calendars,
    event_reads,
    events,
    subscriptions,
    caldav,
    exchange,
    attendees,
    meetings,
    rooms,
    # Scheduling look-ups (scheduling-api.md): people, free/busy, room search, the undocumented two.
    people,
    chats,
    freebusy,
    room_search,
    room_directory,  # after room_search: its /rooms/{room_id} would shadow /rooms/search
    scheduling,
    admin,
]

DEMO_APP_ID = "cli_sandbox0demo0app"
DEMO_APP_SECRET = "sandbox-demo-app-secret-0123456789"  # noqa: S105 -- a published fake, like the rest
# The demo app is configured as our README tells a user to configure theirs: Feishu checks a
# redirect_uri against the app's list of redirect URLs, port included (the docs name no
# loopback exception), so the default `login` redirect must be on the list.
DEMO_REDIRECT_URIS = ["http://127.0.0.1:17653/callback", "http://127.0.0.1/callback", "http://localhost/callback"]
FEISHU_BASE_URL = "https://open.feishu.cn"
# The demo token outlives a long demo session; normal tokens live ACCESS_TOKEN_LIFETIME.
DEMO_TOKEN_LIFETIME = 30 * 24 * 3600


class Stats:
    """Counters tests assert on (e.g. how many refreshes a client made)."""

    def __init__(self) -> None:
        self.token_grants: Counter[str] = Counter()


class Sandbox:
    """A stateful Feishu calendar emulator (see the package README)."""

    def __init__(
        self,
        seed: bool = True,
        clock: Clock | None = None,
        admin: bool = False,
        fault_seed: int = 0,
    ) -> None:
        # The process's one clock (server/clock.py): share it with the server so that the
        # world's "today" and the tools' "today" are the same day.
        self.clock: Clock = clock or SystemClock()
        self.admin = admin
        self.log = RequestLog()
        self.faults = Faults(fault_seed)
        self.stats = Stats()
        self.world = World()
        self._seeded = seed
        self._logids = itertools.count(1)
        self._demo_token: str | None = None
        self.reset()
        self.app = SandboxMiddleware(self._starlette(), self)

    # -- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial world (seeded or empty); log, faults and counters cleared."""
        self.world = World()
        self.log.clear()
        self.faults.clear()
        self.stats.token_grants.clear()
        self._demo_token = None
        self.register_app(DEMO_APP_ID, DEMO_APP_SECRET, DEMO_REDIRECT_URIS)
        if self._seeded:
            seed.populate(self)
            seed_week.populate_around(self, self.clock.now())
            seed_directory.populate_directory(self, self.clock.now())

    def register_app(
        self,
        app_id: str,
        app_secret: str,
        redirect_uris: Sequence[str],
        *,
        enabled_scopes: Sequence[str] | None = None,
        allow_refresh: bool = True,
    ) -> App:
        """Register an OAuth client (a Feishu app) in the seed tenant."""
        app = App(
            app_id=app_id,
            app_secret=app_secret,
            tenant_key=seed.TENANT_KEY,
            redirect_uris=list(redirect_uris),
            enabled_scopes=frozenset(enabled_scopes) if enabled_scopes is not None else None,
            allow_refresh=allow_refresh,
        )
        self.world.apps[app_id] = app
        return app

    @property
    def demo_user(self) -> User:
        user = self.world.users.get(seed.DEMO_USER_OPEN_ID)
        if user is None:
            raise LookupError("the sandbox was created with seed=False: there is no demo user")
        return user

    @property
    def demo_token(self) -> str:
        """A user access token for the demo user with every scope (long-lived)."""
        if self._demo_token is None or self._demo_token not in self.world.access_tokens:
            token = self.issue_user_token(self.demo_user.open_id, lifetime=DEMO_TOKEN_LIFETIME)
            self._demo_token = token
        return self._demo_token

    # -- tokens ----------------------------------------------------------------------------

    def issue_user_token(
        self,
        open_id: str,
        scopes: Sequence[str] | None = None,
        *,
        app_id: str = DEMO_APP_ID,
        lifetime: float = access.ACCESS_TOKEN_LIFETIME,
    ) -> str:
        """A ``u-`` token for ``open_id`` without the OAuth dance (scopes: all calendar ones by default)."""
        if open_id not in self.world.users:
            raise KeyError(f"no user {open_id}")
        granted = frozenset(scopes) if scopes is not None else access.ALL_SCOPES
        token = access.mint_access_token(self.world, self.clock.now(), app_id, open_id, granted, lifetime)
        return token.token

    def expire_access_tokens(self) -> None:
        """Every access token expires now (refresh tokens stay usable)."""
        now = self.clock.now()
        for token in self.world.access_tokens.values():
            token.expires_at = min(token.expires_at, now)

    def expire_token_of(self, authorization: str) -> None:
        token = self.world.access_tokens.get(authorization.partition(" ")[2].strip())
        if token is not None:
            token.expires_at = min(token.expires_at, self.clock.now())

    def consent(self, authorize_url: str, approve: bool = True, user: str | None = None) -> str:
        """Play the browser on an authorize URL (as ``user``, default the demo user); the redirect URL."""
        return oauth.consent(self, authorize_url, approve=approve, user=user)

    def revoke_refresh_tokens(self, open_id: str | None = None) -> int:
        """Revoke live refresh tokens (all, or one user's), as a user revoking access would."""
        return tokens.revoke_refresh_tokens(self, open_id)

    def expire_sync_tokens(self) -> None:
        """Every page and sync token handed out so far answers 190008 from now on."""
        self.world.sync_epoch += 1

    def settle(self) -> None:
        """Let what was due by now happen (rooms answer their bookings): every route calls it first."""
        room_booking.settle(self.world, self.clock.now())

    def decide_approval(self, uid: str, room_id: str, answer: str) -> int:
        """The room's approver answers a booking awaiting approval now (``accept`` or ``decline``)."""
        answers: dict[str, RsvpStatus] = {"accept": "accept", "decline": "decline"}
        if answer not in answers:
            raise ValueError("an approver answers accept or decline")
        return room_booking.decide(self.world, self.clock.now(), uid, room_id, answers[answer])

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (tokens and codes age)."""
        self.clock.advance(seconds)

    @staticmethod
    def mask_token(token: str) -> str:
        """How ``token`` appears in :attr:`log` headers."""
        return access.mask_token(token)

    def authenticate(
        self, request: Request, *, scopes: Sequence[str], user_only: bool = False, tenant_only: bool = False
    ) -> tuple[AccessToken, User | None]:
        return access.authenticate(
            self.world, self.clock.now(), request, scopes=scopes, user_only=user_only, tenant_only=tenant_only
        )

    async def run_late(self) -> int:
        """Run every request a ``late`` fault is still holding back, now; how many ran."""
        held = self.faults.due(everything=True)
        await self.app.run_late(held)
        return len(held)

    def next_logid(self) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.clock.now()))
        return f"{stamp}{next(self._logids):010d}SANDBOX"

    # -- serving ---------------------------------------------------------------------------

    def _starlette(self) -> Starlette:
        routes: list[BaseRoute] = []
        for module in ROUTE_MODULES:
            routes.extend(module.routes(self))

        async def not_found(request: Request, exc: Exception) -> Response:
            # Feishu's gateway answers unknown paths with its own code (99991201 path not found).
            return JSONResponse({"code": 99991201, "msg": "path not found"}, status_code=404)

        async def wrong_method(request: Request, exc: Exception) -> Response:
            return JSONResponse({"code": 99991301, "msg": "http method not allowed"}, status_code=405)

        app = Starlette(routes=routes, exception_handlers={404: not_found, 405: wrong_method})
        # Feishu answers `/events/` with 404 like any unknown path; Starlette would redirect to `/events`.
        app.router.redirect_slashes = False
        return app

    def transport(self) -> httpx2.AsyncBaseTransport:
        """An in-process transport; injected drops surface as ``httpx2`` network errors."""
        return _SandboxTransport(self)

    def client(self, **kwargs: Any) -> httpx2.AsyncClient:
        """An ``httpx2.AsyncClient`` talking to this sandbox in process."""
        kwargs.setdefault("base_url", FEISHU_BASE_URL)
        return httpx2.AsyncClient(transport=self.transport(), **kwargs)


class _SandboxTransport(httpx2.ASGITransport):
    def __init__(self, sb: Sandbox) -> None:
        async def in_process(scope: Scope, receive: Receive, send: Send) -> None:
            await sb.app({**scope, IN_PROCESS: True}, receive, send)

        super().__init__(app=in_process)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as dropped:
            if dropped.connect:
                raise httpx2.ConnectError("sandbox: connection refused (injected)", request=request) from None
            raise httpx2.RemoteProtocolError("sandbox: connection dropped (injected)", request=request) from None


class _QuietDrops(logging.Filter):
    """Injected drops are the point, not server errors: keep their tracebacks out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _quiet_injected_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


# Feishu sends its log id as ``X-Tt-Logid``, and lark-oapi looks it up case-sensitively (in a plain
# dict of the headers). uvicorn's httptools protocol, which it picks when httptools is installed,
# lowercases header names on the wire; h11 sends them as given.
WIRE_PARSER = "h11"
# What a served sandbox keeps of its request log (GET /_sandbox/log shows it): the newest requests.
SERVED_LOG_LIMIT = 10_000


def serve(sb: Sandbox, host: str = "127.0.0.1", port: int = 8900) -> None:
    """Serve on loopback until interrupted. Only loopback addresses are accepted."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the sandbox binds to loopback only")
    _quiet_injected_drops()
    sb.log.limit = SERVED_LOG_LIMIT
    uvicorn.run(sb.app, host=host, port=port, log_level="warning", http=WIRE_PARSER)


@contextlib.contextmanager
def running(sb: Sandbox) -> Iterator[str]:
    """Serve on a free loopback port in a background thread; yields the base URL."""
    _quiet_injected_drops()
    # proto=IPPROTO_TCP: asyncio turns Nagle off only on sockets that say they are TCP (else every
    # answer waits ~40 ms for a delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sb.app, log_level="critical", lifespan="off", http=WIRE_PARSER))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
