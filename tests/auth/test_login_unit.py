"""The login attempt on its own: PKCE and state checks, what goes over the wire, nothing stored on failure."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
import httpx2
import pytest

from auth.errors import LoginFailed
from auth.login import LoginRequest, PendingLogin, login_with_browser
from auth.loopback import redirect_uri_for
from auth.oauth import AppCredentials, Endpoints
from auth.store import FileTokenStore, load_record
from tests.auth.fake_accounts import APP_ID, APP_SECRET, OPEN_ID, FakeAccounts

pytestmark = pytest.mark.anyio
BASE = "https://open.feishu.test"
SCOPES = ("calendar:calendar.event:read", "offline_access")


def request(port: int = 17653) -> LoginRequest:
    return LoginRequest(AppCredentials(APP_ID, APP_SECRET), Endpoints.for_domain(BASE), SCOPES, redirect_uri_for(port))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_authorization_url_has_pkce_s256_and_a_fresh_state() -> None:
    first, second = PendingLogin(request()), PendingLogin(request())
    q = query(first.url)
    assert first.url.startswith(BASE + "/open-apis/authen/v1/authorize?")
    assert q["client_id"] == APP_ID and q["response_type"] == "code"
    assert q["redirect_uri"] == "http://127.0.0.1:17653/callback"
    assert q["scope"] == "calendar:calendar.event:read offline_access"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 32 and q["state"] != query(second.url)["state"]
    assert "secret" not in first.url.lower() and APP_SECRET not in repr(first)


async def test_full_exchange_sends_json_with_verifier_and_stores_the_user(tmp_path: Path) -> None:
    fake = FakeAccounts()
    pending = PendingLogin(request())
    store = FileTokenStore(tmp_path)
    result = await pending.finish(fake.approve(pending.url), store, None, transport=fake.transport())
    assert result.profile == "default" and result.record.open_id == OPEN_ID and result.warnings == ()
    body = fake.bodies[0]
    assert body["grant_type"] == "authorization_code" and len(body["code_verifier"]) >= 43
    assert body["redirect_uri"] == "http://127.0.0.1:17653/callback"
    stored = load_record(store, None)
    assert stored is not None and stored.refresh_token.startswith("ur-") and stored.refresh_expires_at > 0


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda url: url.replace("state=", "state=x"), "state mismatch"),
        (lambda url: url.replace("127.0.0.1:17653", "127.0.0.1:9"), "not the sign-in redirect"),
        (lambda url: url.split("?")[0] + "?state=" + query(url)["state"], "no authorization code"),
    ],
)
async def test_bad_redirects_are_refused_before_any_exchange(tmp_path: Path, tamper: object, message: str) -> None:
    fake = FakeAccounts()
    pending = PendingLogin(request())
    callback = tamper(fake.approve(pending.url))  # type: ignore[operator]
    with pytest.raises(LoginFailed, match=message) as caught:
        await pending.finish(callback, FileTokenStore(tmp_path), None, transport=fake.transport())
    assert "Nothing was stored" in str(caught.value)
    assert fake.bodies == [] and not (tmp_path / "tokens.json").exists()


async def test_denial_and_app_errors_from_the_consent_page(tmp_path: Path) -> None:
    fake = FakeAccounts()
    pending = PendingLogin(request())
    with pytest.raises(LoginFailed, match="declined"):
        pending.code_from_redirect(fake.approve(pending.url, deny=True))
    state = query(pending.url)["state"]
    with pytest.raises(LoginFailed, match=r"20029.*redirect URI is not registered.*127\.0\.0\.1:17653/callback"):
        pending.code_from_redirect(f"http://127.0.0.1:17653/callback?error=invalid_request&code=20029&state={state}")


@pytest.mark.parametrize(
    ("code", "words"),
    [(20069, "not enabled"), (20071, "does not match"), (20049, "PKCE"), (20004, "expired")],
)
async def test_token_endpoint_errors_read_clearly(tmp_path: Path, code: int, words: str) -> None:
    fake = FakeAccounts()
    fake.next_error = (400, code, "invalid_grant")
    pending = PendingLogin(request())
    with pytest.raises(LoginFailed, match=words) as caught:
        await pending.finish(fake.approve(pending.url), FileTokenStore(tmp_path), None, transport=fake.transport())
    assert str(code) in str(caught.value) and caught.value.code == code
    assert not (tmp_path / "tokens.json").exists()


async def test_a_code_works_once(tmp_path: Path) -> None:
    fake = FakeAccounts()
    pending = PendingLogin(request())
    callback = fake.approve(pending.url)
    await pending.finish(callback, FileTokenStore(tmp_path), None, transport=fake.transport())
    with pytest.raises(LoginFailed, match="already completed"):
        await pending.finish(callback, FileTokenStore(tmp_path), None, transport=fake.transport())
    with pytest.raises(LoginFailed, match="20003"):
        await pending.exchange(query(callback)["code"], transport=fake.transport())


async def test_missing_app_credentials_say_what_to_set() -> None:
    with pytest.raises(LoginFailed, match="FEISHU_APP_ID and FEISHU_APP_SECRET"):
        PendingLogin(LoginRequest(AppCredentials("", ""), Endpoints.for_domain("feishu"), SCOPES, redirect_uri_for(1)))


async def test_browser_login_over_a_real_loopback_socket(tmp_path: Path, free_tcp_port: int) -> None:
    fake = FakeAccounts()
    store = FileTokenStore(tmp_path)
    pages: list[tuple[int, str]] = []

    def browser(url: str) -> None:
        # The browser: consent, then follow the redirect to the loopback listener (a real socket).
        async def follow() -> None:
            async with httpx2.AsyncClient() as http:
                stray = await http.get(f"http://127.0.0.1:{free_tcp_port}/favicon.ico")
                page = await http.get(fake.approve(url))
                pages.extend([(stray.status_code, stray.text), (page.status_code, page.text)])

        tasks.start_soon(follow)

    async with anyio.create_task_group() as tasks:
        result = await login_with_browser(
            request(free_tcp_port),
            store,
            "work",
            port=free_tcp_port,
            announce=lambda url: None,
            open_browser=browser,
            timeout=10,
            transport=fake.transport(),
        )
    assert result.profile == "work" and load_record(store, "work") is not None
    assert pages[0][0] == 404 and pages[1][0] == 200 and "close this tab" in pages[1][1]
    assert "code=" not in pages[1][1] and json.dumps(fake.bodies[0]["code"]) not in pages[1][1]


async def test_browser_login_times_out_clearly(tmp_path: Path, free_tcp_port: int) -> None:
    with pytest.raises(LoginFailed, match=r"no answer from the browser within 0\.2 s"):
        await login_with_browser(
            request(free_tcp_port),
            FileTokenStore(tmp_path),
            None,
            port=free_tcp_port,
            announce=lambda url: None,
            open_browser=None,
            timeout=0.2,
        )
    with httpx2.Client() as http, pytest.raises(httpx2.ConnectError):
        http.get(f"http://127.0.0.1:{free_tcp_port}/callback")  # the listener is gone after the login


def test_brand_hosts_and_overrides() -> None:
    feishu, lark = Endpoints.for_domain("feishu"), Endpoints.for_domain("lark")
    assert feishu.token_url == "https://accounts.feishu.cn/oauth/v3/token"
    assert feishu.authorize_url == "https://accounts.feishu.cn/open-apis/authen/v1/authorize"
    assert lark.token_url == "https://accounts.larksuite.com/oauth/v3/token"
    assert lark.api_base == "https://open.larksuite.com"
    custom = Endpoints.for_domain(
        "https://open.feishu.cn", token_url="https://open.feishu.cn/open-apis/authen/v2/oauth/token"
    )
    assert custom.token_url.endswith("/authen/v2/oauth/token") and custom.api_base == "https://open.feishu.cn"


async def test_a_busy_port_is_named_with_the_fix(tmp_path: Path) -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as taken:
        port = taken.extra(anyio.abc.SocketAttribute.local_port)
        with pytest.raises(LoginFailed, match=f"port {port} on 127.0.0.1 is in use; pass --port"):
            await login_with_browser(
                request(port), FileTokenStore(tmp_path), None, port=port, announce=print, open_browser=None
            )
