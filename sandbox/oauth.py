"""User OAuth as Feishu runs it (feishu-api.md §7): consent page, codes, tokens, refresh rotation.

* ``GET /open-apis/authen/v1/authorize`` shows the consent page; ``POST`` to the same path is the
  user's decision and answers with a 302 to ``redirect_uri?code=…&state=…`` (or
  ``error=access_denied``). The sandbox has no login: the form's ``user`` field (default: the demo
  user) says who is signed in.
* ``POST /oauth/v3/token`` (the accounts host) and ``POST /open-apis/authen/v2/oauth/token``
  exchange codes (PKCE S256 or plain, single-use, 5 minutes) and refresh tokens (single-use,
  rotating, only with ``offline_access``). Replies are top-level (no ``data``); failures carry
  ``code``, ``error``, ``error_description`` with HTTP 400.
* ``POST /open-apis/auth/v3/tenant_access_token/internal`` and ``…/app_access_token/internal``
  give a self-built app its own ``t-`` token (top-level ``code``, ``msg``, token, ``expire``).
"""

from __future__ import annotations

import base64
import html
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox import access, tokens
from sandbox.state import AuthorizationCode
from sandbox.tokens import OAuthFault

if TYPE_CHECKING:
    from sandbox.app import Sandbox

AUTHORIZE_PATH = "/open-apis/authen/v1/authorize"
TOKEN_V3_PATH = "/oauth/v3/token"  # noqa: S105 -- a URL path, not a secret
TOKEN_V2_PATH = "/open-apis/authen/v2/oauth/token"  # noqa: S105 -- a URL path
CODE_LIFETIME = 300
MAX_SCOPES = 50


def routes(sb: Sandbox) -> list[BaseRoute]:
    async def authorize_page(request: Request) -> Response:
        try:
            params = validate_authorize(sb, dict(request.query_params))
        except OAuthFault as fault:
            return _error_page(fault)
        return HTMLResponse(_consent_html(sb, params))

    async def authorize_decision(request: Request) -> Response:
        fields = await _form(request)
        try:
            location = decide(sb, fields, approve=fields.get("decision") == "approve", open_id=fields.get("user"))
        except OAuthFault as fault:
            return _error_page(fault)
        return RedirectResponse(location, status_code=302)

    async def token_v3(request: Request) -> Response:
        return await _token_endpoint(sb, request, v3=True)

    async def token_v2(request: Request) -> Response:
        return await _token_endpoint(sb, request, v3=False)

    async def tenant_token(request: Request) -> Response:
        return await _internal_token(sb, request, "tenant_access_token")

    async def app_token(request: Request) -> Response:
        return await _internal_token(sb, request, "app_access_token")

    return [
        Route(AUTHORIZE_PATH, authorize_page, methods=["GET"]),
        Route(AUTHORIZE_PATH, authorize_decision, methods=["POST"]),
        Route(TOKEN_V3_PATH, token_v3, methods=["POST"]),
        Route(TOKEN_V2_PATH, token_v2, methods=["POST"]),
        Route("/open-apis/auth/v3/tenant_access_token/internal", tenant_token, methods=["POST"]),
        Route("/open-apis/auth/v3/app_access_token/internal", app_token, methods=["POST"]),
    ]


def validate_authorize(sb: Sandbox, params: dict[str, str]) -> dict[str, str]:
    """The authorize request's parameters, if the app, redirect and scopes are acceptable."""
    app = sb.world.apps.get(params.get("client_id", ""))
    if app is None:
        raise OAuthFault(20048, "invalid_client", "the app does not exist")
    if params.get("response_type") != "code":
        raise OAuthFault(20063, "unsupported_response_type", "response_type must be code")
    if params.get("redirect_uri", "") not in app.redirect_uris:
        raise OAuthFault(20029, "invalid_request", "redirect_uri is not registered for this app")
    requested = params.get("scope", "").split()
    if len(requested) > MAX_SCOPES:
        raise OAuthFault(20063, "invalid_scope", f"at most {MAX_SCOPES} scopes per request")
    if app.enabled_scopes is not None:
        not_enabled = [s for s in requested if s != "offline_access" and s not in app.enabled_scopes]
        if not_enabled:
            raise OAuthFault(20027, "invalid_scope", f"scopes not enabled for the app: {' '.join(not_enabled)}")
    method = params.get("code_challenge_method") or "plain"
    if params.get("code_challenge") and method not in ("S256", "plain"):
        raise OAuthFault(20063, "invalid_request", "code_challenge_method must be S256 or plain")
    return params


def decide(sb: Sandbox, params: dict[str, str], *, approve: bool, open_id: str | None = None) -> str:
    """The redirect the browser follows after the user approves or denies the consent page."""
    params = validate_authorize(sb, params)
    redirect_uri = params["redirect_uri"]
    state = params.get("state")
    if not approve:
        return _with_query(redirect_uri, {"error": "access_denied", "state": state})
    user = sb.world.users.get(open_id or sb.demo_user.open_id)
    if user is None:
        raise OAuthFault(20008, "invalid_request", "the user does not exist")
    app = sb.world.apps[params["client_id"]]
    if user.tenant_key != app.tenant_key:
        raise OAuthFault(20010, "access_denied", "the user may not use this app")
    grant = sb.world.grants.setdefault((app.app_id, user.open_id), set())
    grant.update(params.get("scope", "").split())  # grants accumulate across authorizations
    code = AuthorizationCode(
        code=secrets.token_urlsafe(48).replace("_", "-"),
        app_id=app.app_id,
        open_id=user.open_id,
        scopes=frozenset(grant),
        redirect_uri=redirect_uri,
        code_challenge=params.get("code_challenge") or None,
        code_challenge_method=params.get("code_challenge_method") or "plain",
        expires_at=sb.clock.now() + CODE_LIFETIME,
    )
    sb.world.codes[code.code] = code
    return _with_query(redirect_uri, {"code": code.code, "state": state})


def consent(sb: Sandbox, authorize_url: str, approve: bool = True, user: str | None = None) -> str:
    """Play the browser: take an authorize URL, approve or deny as ``user``, return the redirect URL."""
    params = dict(parse_qsl(urlsplit(authorize_url).query, keep_blank_values=True))
    return decide(sb, params, approve=approve, open_id=user)


async def _token_endpoint(sb: Sandbox, request: Request, *, v3: bool) -> Response:
    try:
        fields = await _token_request_fields(request)
        grant_type = fields.get("grant_type", "")
        if grant_type == "authorization_code":
            reply = tokens.exchange_code(sb, fields, v3=v3)
        elif grant_type == "refresh_token":
            reply = tokens.refresh(sb, fields)
        elif not grant_type:
            raise OAuthFault(20001, "invalid_request", "grant_type is required")
        else:
            raise OAuthFault(20036, "unsupported_grant_type", f"unsupported grant_type {grant_type}")
    except OAuthFault as fault:
        body = {"code": fault.code, "error": fault.error, "error_description": fault.description}
        return JSONResponse(body, status_code=fault.http_status)
    sb.stats.token_grants[grant_type] += 1
    return JSONResponse({"code": 0, **reply}, headers={"cache-control": "no-store"})


async def _token_request_fields(request: Request) -> dict[str, str]:
    """JSON or form body, plus client credentials from HTTP Basic if sent (but not both ways)."""
    content_type = request.headers.get("content-type", "")
    fields: dict[str, str]
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = await _form(request)
    else:
        body = await _json_object(request)
        fields = {k: str(v) for k, v in body.items() if v is not None}
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        if "client_secret" in fields:
            raise OAuthFault(20070, "invalid_request", "send client credentials either in the body or as Basic")
        try:
            client_id, _, secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
        except ValueError:
            raise OAuthFault(20063, "invalid_request", "malformed Basic authorization") from None
        fields.setdefault("client_id", client_id)
        fields["client_secret"] = secret
    return fields


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs the optional python-multipart package.
    return dict(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise OAuthFault(20063, "invalid_request", "the body is neither JSON nor a form") from None
    if not isinstance(parsed, dict):
        raise OAuthFault(20063, "invalid_request", "the body must be a JSON object")
    return parsed


async def _internal_token(sb: Sandbox, request: Request, kind: str) -> Response:
    try:
        body = await _json_object(request)
    except OAuthFault:
        return JSONResponse({"code": 10003, "msg": "invalid param"}, status_code=400)
    app = sb.world.apps.get(str(body.get("app_id", "")))
    if app is None or app.app_secret != body.get("app_secret"):
        return JSONResponse({"code": 10014, "msg": "app secret invalid"}, status_code=400)
    token = access.mint_tenant_token(sb.world, sb.clock.now(), app)
    sb.stats.token_grants[kind] += 1
    reply = {"code": 0, "msg": "ok", kind: token.token, "expire": access.TENANT_TOKEN_LIFETIME}
    if kind == "app_access_token":
        reply["tenant_access_token"] = token.token
    return JSONResponse(reply)


def _with_query(url: str, params: dict[str, str | None]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return url + ("&" if "?" in url else "?") + urlencode(kept)


def _error_page(fault: OAuthFault) -> Response:
    text = f"<h1>Authorization failed</h1><p>error code {fault.code}: {html.escape(fault.description)}</p>"
    return HTMLResponse(text, status_code=400)


def _consent_html(sb: Sandbox, params: dict[str, str]) -> str:
    app = sb.world.apps[params["client_id"]]
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    people = "".join(
        f'<option value="{u.open_id}">{html.escape(u.name)} ({html.escape(u.en_name)})</option>'
        for u in sb.world.users.values()
        if u.tenant_key == app.tenant_key
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    return (
        f"<!doctype html><title>Authorize {html.escape(app.name)}</title>"
        f"<h1>{html.escape(app.name)} wants to access your Feishu calendar</h1><ul>{scopes}</ul>"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
        f'<label>Signed in as <select name="user">{people}</select></label>'
        '<button name="decision" value="approve">Authorize</button>'
        '<button name="decision" value="deny">Deny</button></form>'
    )
