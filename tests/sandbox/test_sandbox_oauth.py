"""OAuth: consent page, codes with PKCE, token grants, refresh rotation and Feishu's error codes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from sandbox import DEMO_APP_ID, DEMO_APP_SECRET, DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, Sandbox

pytestmark = pytest.mark.anyio

REDIRECT = "http://127.0.0.1/callback"
VERIFIER = "v" * 43 + "-._~0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
SCOPES = "calendar:calendar offline_access"


def authorize_url(**overrides: str) -> str:
    params = {
        "client_id": DEMO_APP_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return "https://accounts.feishu.cn/open-apis/authen/v1/authorize?" + urlencode(params)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def code_from(sb: Sandbox, **overrides: str) -> str:
    return query_of(sb.consent(authorize_url(**overrides)))["code"]


async def token(http: httpx2.AsyncClient, path: str = "/oauth/v3/token", **fields: str) -> httpx2.Response:
    body = {"client_id": DEMO_APP_ID, "client_secret": DEMO_APP_SECRET, **fields}
    return await http.post(path, json=body)


async def exchange(http: httpx2.AsyncClient, code: str, **extra: str) -> httpx2.Response:
    return await token(
        http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER, **extra
    )


def error_code(response: httpx2.Response) -> int:
    assert response.status_code == 400
    body: dict[str, Any] = response.json()
    assert body["error"] and body["error_description"] and "msg" not in body
    return int(body["code"])


async def test_consent_page_then_browser_post_redirects_with_code_and_state(
    sb: Sandbox, anonymous: httpx2.AsyncClient
) -> None:
    page = await anonymous.get(authorize_url())
    assert page.status_code == 200 and "Authorize" in page.text and "calendar:calendar" in page.text
    form = {**query_of(authorize_url()), "decision": "approve", "user": LI_LEI_OPEN_ID}
    response = await anonymous.post("/open-apis/authen/v1/authorize", data=form)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?") and query_of(location)["state"] == "xyz"
    granted = (await exchange(anonymous, query_of(location)["code"])).json()
    info = await anonymous.get(
        "/open-apis/authen/v1/user_info", headers={"Authorization": f"Bearer {granted['access_token']}"}
    )
    assert info.json()["data"]["open_id"] == LI_LEI_OPEN_ID


async def test_denial_redirects_with_access_denied(sb: Sandbox) -> None:
    location = sb.consent(authorize_url(), approve=False)
    assert query_of(location) == {"error": "access_denied", "state": "xyz"}


async def test_unregistered_redirect_is_refused_on_the_consent_page(anonymous: httpx2.AsyncClient) -> None:
    page = await anonymous.get(authorize_url(redirect_uri="https://evil.example/cb"))
    assert page.status_code == 400 and "20029" in page.text


async def test_code_exchange_returns_top_level_tokens(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    response = await exchange(anonymous, code_from(sb))
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0 and "data" not in body
    assert body["access_token"].startswith("u-") and body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200 and body["refresh_token_expires_in"] == 604800
    assert set(body["scope"].split()) == set(SCOPES.split())
    assert sb.stats.token_grants["authorization_code"] == 1


async def test_codes_are_single_use_and_expire_after_five_minutes(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    code = code_from(sb)
    assert (await exchange(anonymous, code)).status_code == 200
    assert error_code(await exchange(anonymous, code)) == 20065
    late = code_from(sb)
    sb.advance(301)
    assert error_code(await exchange(anonymous, late)) == 20004
    assert error_code(await exchange(anonymous, "no-such-code")) == 20003


async def test_pkce_and_redirect_checks(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    wrong = await token(
        anonymous, grant_type="authorization_code", code=code_from(sb), redirect_uri=REDIRECT, code_verifier="w" * 43
    )
    assert error_code(wrong) == 20049
    missing = await token(anonymous, grant_type="authorization_code", code=code_from(sb), redirect_uri=REDIRECT)
    assert error_code(missing) == 20049
    mismatch = await token(
        anonymous,
        grant_type="authorization_code",
        code=code_from(sb),
        redirect_uri="http://localhost/callback",
        code_verifier=VERIFIER,
    )
    assert error_code(mismatch) == 20071


async def test_v3_refuses_a_verifier_without_a_challenge_but_v2_accepts_it(
    sb: Sandbox, anonymous: httpx2.AsyncClient
) -> None:
    plain = {"code_challenge": "", "code_challenge_method": ""}
    assert error_code(await exchange(anonymous, code_from(sb, **plain))) == 20049
    v2 = await token(
        anonymous,
        "/open-apis/authen/v2/oauth/token",
        grant_type="authorization_code",
        code=code_from(sb, **plain),
        code_verifier=VERIFIER,
    )
    assert v2.status_code == 200 and v2.json()["code"] == 0


async def test_client_and_grant_errors(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    bad_secret = await anonymous.post(
        "/oauth/v3/token", json={"client_id": DEMO_APP_ID, "client_secret": "nope", "grant_type": "refresh_token"}
    )
    assert error_code(bad_secret) == 20002
    assert error_code(await token(anonymous, grant_type="password")) == 20036
    assert error_code(await token(anonymous, grant_type="authorization_code")) == 20001
    both = await anonymous.post(
        "/oauth/v3/token",
        json={"client_id": DEMO_APP_ID, "client_secret": DEMO_APP_SECRET, "grant_type": "refresh_token"},
        auth=(DEMO_APP_ID, DEMO_APP_SECRET),
    )
    assert error_code(both) == 20070


async def test_refresh_rotates_and_each_refresh_token_works_once(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    first = (await exchange(anonymous, code_from(sb))).json()
    second = (await token(anonymous, grant_type="refresh_token", refresh_token=first["refresh_token"])).json()
    assert second["code"] == 0 and second["refresh_token"] != first["refresh_token"]
    again = await token(anonymous, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert error_code(again) == 20073
    # The old access token stays valid until it expires.
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    old = await anonymous.get("/open-apis/authen/v1/user_info", headers=bearer)
    assert old.json()["code"] == 0
    assert sb.stats.token_grants["refresh_token"] == 1


async def test_no_refresh_token_without_offline_access(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    body = (await exchange(anonymous, code_from(sb, scope="calendar:calendar"))).json()
    assert "refresh_token" not in body


async def test_dead_refresh_tokens(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    async def refresh(value: str) -> int:
        return error_code(await token(anonymous, grant_type="refresh_token", refresh_token=value))

    assert await refresh("ur-unknown") == 20026
    revoked = (await exchange(anonymous, code_from(sb))).json()["refresh_token"]
    assert sb.revoke_refresh_tokens(DEMO_USER_OPEN_ID) == 1
    assert await refresh(revoked) == 20064
    expiring = (await exchange(anonymous, code_from(sb))).json()["refresh_token"]
    sb.advance(604800)
    assert await refresh(expiring) == 20037
    sb.world.apps[DEMO_APP_ID].allow_refresh = False
    assert await refresh(expiring) == 20074


async def test_scope_narrowing(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    narrowed = (await exchange(anonymous, code_from(sb), scope="calendar:calendar")).json()
    assert narrowed["scope"] == "calendar:calendar" and "refresh_token" not in narrowed
    assert error_code(await exchange(anonymous, code_from(sb), scope="calendar:calendar calendar:calendar")) == 20067
    assert error_code(await exchange(anonymous, code_from(sb), scope="contact:contact")) == 20068


async def test_expire_access_tokens_makes_api_calls_fail_with_99991677(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.expire_access_tokens()
    response = await api.post("/open-apis/calendar/v4/calendars/primary")
    assert response.json()["code"] == 99991677


async def test_authlib_standard_client_with_form_body_and_basic_auth(sb: Sandbox) -> None:
    """A stock RFC 6749 client (form-encoded, client_secret_basic) gets through the whole flow."""
    async with AsyncOAuth2Client(
        client_id=DEMO_APP_ID,
        client_secret=DEMO_APP_SECRET,
        redirect_uri=REDIRECT,
        scope=SCOPES,
        code_challenge_method="S256",
        transport=sb.transport(),
        base_url="https://accounts.feishu.cn",
    ) as client:
        url, _state = client.create_authorization_url(
            "https://accounts.feishu.cn/open-apis/authen/v1/authorize", code_verifier=VERIFIER
        )
        redirected = sb.consent(url)
        tokens = await client.fetch_token(
            "https://accounts.feishu.cn/oauth/v3/token", authorization_response=redirected, code_verifier=VERIFIER
        )
        assert tokens["access_token"].startswith("u-") and tokens["refresh_token"]
        refreshed = await client.refresh_token("https://accounts.feishu.cn/oauth/v3/token")
        assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert (
        sb.log.matching("POST", "/oauth/v3/token")[0]
        .headers["content-type"]
        .startswith("application/x-www-form-urlencoded")
    )


async def test_tenant_access_token_internal(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    body = (
        await anonymous.post(
            "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET},
        )
    ).json()
    assert body["code"] == 0 and body["tenant_access_token"].startswith("t-") and body["expire"] == 7200
    bad = await anonymous.post(
        "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": DEMO_APP_ID, "app_secret": "x"}
    )
    assert bad.json()["code"] != 0


async def test_token_endpoint_server_errors_use_its_own_form(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    sb.faults.inject("server_error", status=500, path="/oauth/v3/token", times=1)
    sb.faults.inject("server_error", status=503, path="/oauth/v3/token", times=1)
    first = await exchange(anonymous, code_from(sb))
    assert first.status_code == 500 and first.json()["code"] == 20050 and first.json()["error"] == "server_error"
    second = await exchange(anonymous, code_from(sb))
    assert second.status_code == 503 and second.json()["code"] == 20072
    assert (await exchange(anonymous, code_from(sb))).json()["code"] == 0


async def test_app_without_the_scope_enabled_gets_99991672(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    sb.register_app("cli_narrow_app", "narrow-secret", [REDIRECT], enabled_scopes=["calendar:calendar:readonly"])
    token = sb.issue_user_token(DEMO_USER_OPEN_ID, app_id="cli_narrow_app")
    response = await anonymous.post(
        "/open-apis/calendar/v4/calendars/feishu.cn_x@group.calendar.feishu.cn/events",
        headers={"Authorization": f"Bearer {token}"},
        json={},
    )
    assert response.status_code == 403 and response.json()["code"] == 99991672
    consent_page = await anonymous.get(authorize_url(client_id="cli_narrow_app", scope="calendar:calendar"))
    assert consent_page.status_code == 400 and "20027" in consent_page.text
