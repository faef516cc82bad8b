"""One team-mode replica as an ASGI app: authorization server, resource server (/mcp), health.

Routes: the SDK's AS routes (``/.well-known/oauth-authorization-server``, ``/authorize``,
``/token``, ``/register``, ``/revoke``; the metadata also says that client ID metadata documents
and ``iss`` in responses are supported), our ``/consent`` and ``/oauth/feishu/callback``, the MCP
app (``/mcp`` behind the SDK's bearer middleware, and its protected-resource metadata), and
``/healthz`` (the process answers) and ``/readyz`` (Redis answers). Everything a replica knows
lives in Redis or is derived from FEISHU_TOKEN_KEY, so replicas are interchangeable.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.routes import build_metadata, cors_middleware, create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from auth.grants_redis import RedisGrantStore, SharedGrants
from server import heap
from server.app import build_server
from server.clock import Clock, SystemClock
from server.http_results import ResultsWrittenOnce
from server.settings import Settings
from server.team.access import AccessTokens, TeamTokenVerifier
from server.team.config import SCOPE, TeamConfig, TeamConfigError
from server.team.identity import TeamTokens
from server.team.keepalive import KeepAlive
from server.team.logs import RequestIds, use_json_logs
from server.team.provider import TeamProvider
from server.team.quota import Quota, parse_limits
from server.team.records import Records
from server.team.signin import FeishuApp, SignIn
from server.team.zones import UserZones
from server.tokens import credentials, endpoints, login_scopes

log = logging.getLogger("feishu_calendar_mcp.team")
METADATA_PATH = "/.well-known/oauth-authorization-server"
AUDIENCE = "feishu-calendar"  # what sealed confirmation state is bound to, on every replica


@dataclass
class Replica:
    """The assembled app and the parts tests and the benchmark look at."""

    app: Starlette
    redis: Redis
    grants: SharedGrants
    provider: TeamProvider
    tokens: AccessTokens
    quota: Quota
    keepalive: KeepAlive  # runs in the lifespan unless FEISHU_KEEPALIVE=off


def build_replica(
    settings: Settings,
    config: TeamConfig,
    *,
    feishu_transport: httpx2.AsyncBaseTransport | None = None,
    cimd_transport: httpx2.AsyncBaseTransport | None = None,
    redis: Redis | None = None,
    clock: Clock | None = None,
) -> Replica:
    """One replica; ``clock`` is the process's one clock (tests pass the sandbox's, pinned)."""
    clock = clock or SystemClock()
    if not settings.app_id or not settings.app_secret.get_secret_value():
        raise ValueError("team mode signs users in to Feishu as your app: set FEISHU_APP_ID and FEISHU_APP_SECRET")
    redis = redis or Redis.from_url(config.redis_url, socket_timeout=5, socket_connect_timeout=3)
    cipher = config.keys.cipher()
    grant_store = RedisGrantStore(redis, cipher)
    records = Records(redis, cipher)
    zones = UserZones(redis, cipher, settings.timezone or "UTC")
    access = AccessTokens(config, clock=clock.now)
    provider = TeamProvider(config, records, grant_store, access, cimd_transport=cimd_transport, clock=clock.now)
    shared = SharedGrants(
        grant_store, credentials(settings), endpoints(settings), transport=feishu_transport, clock=clock.now
    )
    feishu = FeishuApp(credentials(settings), endpoints(settings), login_scopes(settings), feishu_transport)
    signin = SignIn(config, records, grant_store, feishu, clock=clock.now, zones=zones)
    quota = Quota(
        redis,
        parse_limits(config.user_limits, "FEISHU_USER_RATE_LIMIT"),
        parse_limits(config.tenant_limits, "FEISHU_TENANT_RATE_LIMIT"),
    )
    keepalive = KeepAlive(
        shared,
        quota,
        parse_limits(config.keepalive_limits, "FEISHU_KEEPALIVE_RATE"),
        clock,
        window=config.keepalive_window,
        interval=config.keepalive_interval,
    )
    # Validated by AuthSettings (which keeps a path-less issuer without a trailing "/": RFC 8414
    # compares issuers as strings, and the iss we send must match the metadata's exactly).
    auth = AuthSettings.model_validate(
        {
            "issuer_url": config.issuer,
            "resource_server_url": config.resource,
            "required_scopes": [SCOPE],
            "validate_token_resource": True,
        }
    )

    server = build_server(
        settings,
        TeamTokens(shared, quota),
        transport=feishu_transport,
        clock=clock,
        auth=auth,
        token_verifier=TeamTokenVerifier(access, records, grant_store, zones),
        request_state_security=RequestStateSecurity(keys=config.keys.request_state_keys(), audience=AUDIENCE),
    )
    mcp_app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[config.host],
            allowed_origins=[config.public_url],
        ),
        host="0.0.0.0",  # noqa: S104 (not a bind: tells the SDK not to apply its localhost-only defaults)
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await redis.ping()
        except RedisError as exc:
            return JSONResponse({"status": "unavailable", "redis": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    routes: list[BaseRoute] = [
        *_authorization_server_routes(provider, auth.issuer_url),
        *signin.routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Mount("/", app=ResultsWrittenOnce(mcp_app)),  # results written once (server/http_results.py)
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp_app.router.lifespan_context(mcp_app):
            try:
                async with anyio.create_task_group() as background:
                    if config.keepalive:
                        background.start_soon(keepalive.run)
                    try:
                        yield
                    finally:
                        background.cancel_scope.cancel()  # shutdown: the keep-alive stops here
            finally:
                await redis.aclose()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIds)])
    return Replica(app, redis, shared, provider, access, quota, keepalive)


def _authorization_server_routes(provider: TeamProvider, issuer: AnyHttpUrl) -> list[Route]:
    """The SDK's AS routes, with the metadata document saying what the SDK's builder leaves out."""
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE])
    revocation = RevocationOptions(enabled=True)
    routes = create_auth_routes(provider, issuer, None, registration, revocation)  # type: ignore[arg-type]
    metadata = build_metadata(issuer, None, registration, revocation)
    metadata.client_id_metadata_document_supported = True  # server/team/cimd.py
    metadata.authorization_response_iss_parameter_supported = True  # RFC 9207: signin.py adds iss
    handler: Any = MetadataHandler(metadata).handle
    replaced = Route(METADATA_PATH, endpoint=cors_middleware(handler, ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"])
    return [replaced if isinstance(r, Route) and r.path == METADATA_PATH else r for r in routes]


def serve_team(args: argparse.Namespace, settings: Settings, environ: Mapping[str, str]) -> int:
    """``serve --transport http --public-url URL --redis-url URL``: one replica, until stopped."""
    import uvicorn

    from auth.grant_cipher import SealError

    if args.transport != "http":
        print("error: team mode (--public-url) serves HTTP only: add --transport http", file=sys.stderr)
        return 2
    use_json_logs(settings.log_level)
    try:
        config = TeamConfig.load(environ, public_url=args.public_url, redis_url=args.redis_url)
        replica = build_replica(settings, config)
    except (TeamConfigError, SealError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = args.host or environ.get("FEISHU_HOST") or "127.0.0.1"
    print(f"team mode: {config.resource} (serving on {host}:{args.port})", file=sys.stderr)
    # Behind a load balancer that terminates TLS: trust its X-Forwarded-* only from the addresses given.
    forwarded = environ.get("FEISHU_FORWARDED_ALLOW_IPS", "127.0.0.1")
    heap.serving()  # the command turned collections off while the replica was built
    uvicorn.run(
        replica.app,
        host=host,
        port=args.port,
        log_config=None,  # uvicorn's loggers go to the root's JSON handler
        proxy_headers=True,
        forwarded_allow_ips=forwarded,
    )
    return 0
