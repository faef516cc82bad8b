"""Who is calling: bearer tokens on API routes, and minting tokens for tests and OAuth.

Feishu's gateway codes (feishu-api.md §10.2): 99991661 no token, 99991671 malformed (not ``u-``/``t-``),
99991668 unknown user token, 99991677 expired user token, 99991663 bad tenant token,
99991679 the user has not granted any of the API's scopes (with ``permission_violations``),
99991672 the app has not enabled the scope. The HTTP status for these is not documented; one
report saw 400, so 400 it is (403 for the two scope refusals).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from starlette.requests import Request

from sandbox.state import AccessToken, App, User, World
from sandbox.wire import FeishuFault

ACCESS_TOKEN_LIFETIME = 7200
REFRESH_TOKEN_LIFETIME = 604800
TENANT_TOKEN_LIFETIME = 7200

# Every user scope the calendar server may ask for; tokens minted for tests carry all of them.
ALL_SCOPES = frozenset(
    {
        "calendar:calendar",
        "calendar:calendar:readonly",
        "calendar:calendar:read",
        "calendar:calendar.event:create",
        "calendar:calendar.event:read",
        "calendar:calendar.event:update",
        "calendar:calendar.event:delete",
        "calendar:calendar.event:reply",
        "calendar:calendar.free_busy:read",
        "calendar:room:readonly",
        "calendar:settings.caldav:create",
        "calendar:exchange.bindings:create",
        "calendar:exchange.bindings:read",
        "calendar:exchange.bindings:delete",
        "contact:user.email:readonly",
        "contact:user.employee_id:readonly",
        # The scheduling look-ups (scheduling-api.md): people search, profiles, room search.
        "contact:user:search",
        "contact:contact.base:readonly",
        "contact:user.base:readonly",
        "contact:user.employee:readonly",
        "contact:user.department:readonly",
        "contact:user.department_path:readonly",
        "vc:room:readonly",
        "im:chat:readonly",
        "offline_access",
    }
)


def new_secret(prefix: str, length: int = 48) -> str:
    return prefix + secrets.token_urlsafe(length)[:length]


def mask_token(token: str) -> str:
    """How a token appears in the request log: kind prefix and last four characters only."""
    if len(token) <= 10:
        return "***"
    return f"{token[:2]}***{token[-4:]}"


def authenticate(
    world: World, now: float, request: Request, *, scopes: Sequence[str], user_only: bool, tenant_only: bool = False
) -> tuple[AccessToken, User | None]:
    """The token and calling user of an API request, or the gateway's refusal.

    ``tenant_only``: the page takes a tenant_access_token only; a user token is 99991668 (the code that also
    means "this API takes no user token"), before its scopes are looked at: granting one would not help."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise FeishuFault(
            99991661, "Missing access token for authorization. Please make a request with token attached."
        )
    if not token.startswith(("u-", "t-")):
        raise FeishuFault(99991671, "Invalid token format: a token must start with 'u-' or 't-'.")
    found = world.access_tokens.get(token)
    if token.startswith("t-") and found is None:
        found = _signed_tenant_token(world, token)
    if token.startswith("t-"):
        if found is None or found.is_user or found.expires_at <= now:
            raise FeishuFault(99991663, "Invalid access token for authorization. Please make a new token.")
        if user_only:
            raise FeishuFault(99991663, "Invalid access token for authorization: this API accepts user tokens only.")
        _check_app_scopes(world, found, scopes)
        return found, None
    if found is None:
        raise FeishuFault(99991668, "Invalid access token for authorization. Please make a new token.")
    if found.expires_at <= now:
        raise FeishuFault(99991677, "user access token expired, please refresh it.")
    if tenant_only:
        raise FeishuFault(
            99991668, "Invalid access token for authorization: this API takes a tenant_access_token only."
        )
    if scopes and not found.scopes.intersection(scopes):
        violations = [
            {"type": "action_scope_required", "subject": s, "description": "user scope required"} for s in scopes
        ]
        raise FeishuFault(
            99991679,
            "Unauthorized. You do not have permission to perform the requested operation on the resource. "
            f"Please request user re-authorization. Required one of these privileges: [{', '.join(scopes)}]",
            403,
            {"permission_violations": violations},
        )
    _check_app_scopes(world, found, scopes)
    assert found.open_id is not None  # a u- token always names its user
    user = world.users.get(found.open_id)
    if user is None or user.status != "active":
        raise FeishuFault(99991668, "Invalid access token for authorization: the user is not active.")
    return found, user


def _check_app_scopes(world: World, token: AccessToken, scopes: Sequence[str]) -> None:
    app = world.apps.get(token.app_id)
    if app is None or app.enabled_scopes is None or not scopes:
        return
    if not app.enabled_scopes.intersection(scopes):
        raise FeishuFault(
            99991672,
            f"Access denied. One of the following scopes is required: [{', '.join(scopes)}]. "
            "Enable it in the developer console.",
            403,
            {"permission_violations": [{"type": "action_scope_required", "subject": s} for s in scopes]},
        )


def mint_access_token(
    world: World, now: float, app_id: str, open_id: str | None, scopes: frozenset[str], lifetime: float
) -> AccessToken:
    prefix = "u-" if open_id is not None else "t-"
    token = AccessToken(new_secret(prefix), app_id, open_id, scopes, now + lifetime)
    world.access_tokens[token.token] = token
    return token


def mint_tenant_token(world: World, now: float, app: App) -> AccessToken:
    """A tenant (and app) token signed with the app's secret, honoured by any sandbox that has the app.

    Feishu's tenant tokens live 2 hours whatever happens to the service, and the official SDK keeps
    one per app id for that long in a process-wide cache: a test process that starts a fresh
    sandbox per module sent the first sandbox's token to the next one, which had never issued it
    (99991663). The random part keeps each token new, so one that was expired stays expired.
    """
    body = f"{secrets.token_urlsafe(12)}.{int(now + TENANT_TOKEN_LIFETIME)}"
    token = AccessToken(
        f"t-{body}.{_signature(app, body)}", app.app_id, None, frozenset(), int(now + TENANT_TOKEN_LIFETIME)
    )
    world.access_tokens[token.token] = token
    return token


def _signature(app: App, body: str) -> str:
    return hmac.new(app.app_secret.encode(), f"{app.app_id}.{body}".encode(), hashlib.sha256).hexdigest()[:32]


def _signed_tenant_token(world: World, token: str) -> AccessToken | None:
    """A tenant token another sandbox signed for one of this sandbox's apps, now known here too."""
    nonce, _, rest = token[2:].partition(".")
    expires, _, signature = rest.partition(".")
    if not (nonce and expires.isdigit() and expires.isascii() and signature):
        return None
    for app in world.apps.values():
        if hmac.compare_digest(_signature(app, f"{nonce}.{expires}"), signature):
            found = AccessToken(token, app.app_id, None, frozenset(), float(expires))
            world.access_tokens[token] = found
            return found
    return None
