"""Signing in against the sandbox's OAuth (real loopback HTTP): the issue's "must show" list.

The test plays the browser with the sandbox's consent helper and lands on our loopback listener.
"""

from __future__ import annotations

import logging
import stat
import webbrowser
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from mcp import Client, MCPError, UrlElicitationRequiredError
from mcp.types import URL_ELICITATION_REQUIRED, ElicitCompleteNotification, ElicitResult

from auth.errors import LoginFailed
from auth.login import LoginRequest, PendingLogin
from auth.store import FileTokenStore, load_record
from sandbox.seed import DEMO_USER_OPEN_ID
from server import cli
from server.app import build_server
from server.settings import Settings
from server.signin import remember_url_elicitation
from server.tokens import StoredLogin, login_request, token_source
from tests.auth.conftest import APP_ID, APP_SECRET, Live

pytestmark = pytest.mark.anyio
WINDOW = {"start": "2026-11-23", "end": "2026-11-30"}


def store_of(live: Live) -> FileTokenStore:
    return FileTokenStore(live.config_dir)


def request_for(live: Live) -> LoginRequest:
    return login_request(live.settings(), live.port)


async def signed_in(live: Live) -> None:
    pending = PendingLogin(request_for(live))
    await pending.finish(live.sb.consent(pending.url), store_of(live), None)


async def call_tool(settings: Settings, name: str, arguments: dict[str, str]) -> tuple[bool, str]:
    async with Client(build_server(settings, token_source(settings))) as client:
        result = await client.call_tool(name, arguments)
    text = " ".join(getattr(part, "text", "") for part in result.content)
    return result.is_error, text


def test_cli_login_headless_then_status_and_logout(
    live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in live.environ().items():
        monkeypatch.setenv(name, value)
    open_browser, pages_seen = live.browser_in_background()
    monkeypatch.setattr(webbrowser, "open", open_browser)
    assert cli.main(["login", "--timeout", "20"]) == 0
    err = capsys.readouterr().err
    assert f"{live.base_url}/open-apis/authen/v1/authorize?" in err, "the URL is printed as well"
    assert "Signed in as" in err and "(profile default)" in err
    pages = pages_seen()
    assert pages and pages[0][0] == 200 and "close this tab" in pages[0][1]
    stored = load_record(store_of(live), None)
    assert stored is not None and stored.open_id == DEMO_USER_OPEN_ID and stored.refresh_token
    assert "offline_access" in stored.scopes and "calendar:calendar.event:read" in stored.scopes
    assert stat.S_IMODE(store_of(live).path.stat().st_mode) == 0o600

    # A tool call through the MCP server now runs with the stored token.
    error, text = anyio.run(call_tool, live.settings(), "view_instances", WINDOW)
    assert not error, text
    sent = {
        e.headers.get("authorization") for e in live.sb.log.matching("POST", "/open-apis/calendar/v4/calendars/primary")
    }
    assert sent == {"Bearer " + live.sb.mask_token(stored.access_token)}

    assert cli.main(["status"]) == 0
    err = capsys.readouterr().err
    assert "confirmed by Feishu user_info" in err and DEMO_USER_OPEN_ID in err and "Refresh token expires" in err
    assert stored.access_token not in err and stored.refresh_token not in err
    assert "Missing for the offered tools" not in err
    monkeypatch.setenv("FEISHU_TOOLSETS", "all")  # more tools offered than the login asked for
    assert cli.main(["status"]) == 0
    assert "Missing for the offered tools: calendar:settings.caldav:create" in capsys.readouterr().err
    monkeypatch.delenv("FEISHU_TOOLSETS")

    assert cli.main(["logout"]) == 0
    assert "tokens removed" in capsys.readouterr().err
    assert load_record(store_of(live), None) is None
    assert cli.main(["status"]) == 1
    assert "not signed in" in capsys.readouterr().err


def test_cli_login_denied_stores_nothing(
    live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in live.environ().items():
        monkeypatch.setenv(name, value)
    open_browser, pages_seen = live.browser_in_background(approve=False)
    monkeypatch.setattr(webbrowser, "open", open_browser)
    assert cli.main(["login", "--timeout", "20"]) == 1
    assert "you declined the authorization" in capsys.readouterr().err
    pages = pages_seen()
    assert pages[0][0] == 400 and "declined" in pages[0][1]
    assert not store_of(live).path.exists()


def test_cli_login_no_browser_takes_the_pasted_address(
    live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.login_cli import run_login_command

    for name, value in live.environ().items():
        monkeypatch.setenv(name, value)
    args = cli.build_parser().parse_args(["login", "--no-browser", "--profile", "ssh"])
    printed: list[str] = []

    def paste() -> str:
        url = next(line.strip() for line in printed if "/authorize?" in line)
        return live.sb.consent(url)  # the user copies the address bar after approving elsewhere

    class Out:
        def write(self, text: str) -> None:
            printed.extend(text.splitlines())

        def flush(self) -> None:
            pass

    rc = run_login_command(args, cli._settings, lambda level: None, out=Out(), read_line=paste)  # type: ignore[arg-type]
    assert rc == 0 and any("Signed in as" in line for line in printed)
    assert load_record(store_of(live), "ssh") is not None


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sign_in_from_the_assistant_by_url_elicitation(live: Live, mode: str) -> None:
    settings = live.settings()
    source = token_source(settings)
    assert isinstance(source, StoredLogin) and source.sign_in is not None
    server = build_server(settings, source)
    server.middleware.append(remember_url_elicitation)
    notices: list[str] = []

    async def shows_url(context: object, params: object) -> ElicitResult:
        return ElicitResult(action="accept")

    async def on_message(message: object) -> None:
        if isinstance(message, ElicitCompleteNotification):
            notices.append(message.params.elicitation_id)

    client = Client(server, mode=mode, elicitation_callback=shows_url, message_handler=on_message)
    async with client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("view_instances", WINDOW)
        assert caught.value.error.code == URL_ELICITATION_REQUIRED
        elicitation = UrlElicitationRequiredError.from_error(caught.value.error).elicitations[0]
        assert elicitation.url.startswith(f"{live.base_url}/open-apis/authen/v1/authorize?")
        status, page = await anyio.to_thread.run_sync(live.play_browser, elicitation.url)
        assert status == 200, page
        await anyio.to_thread.run_sync(source.sign_in.wait_finished, 10.0)
        retried = await client.call_tool("view_instances", WINDOW)
        if mode == "legacy":  # a connection with a back-channel is told the sign-in finished
            with anyio.fail_after(5):
                while not notices:
                    await anyio.sleep(0.01)
            assert notices == [elicitation.elicitation_id]
    assert not retried.is_error, retried.content
    stored = load_record(store_of(live), None)
    assert stored is not None and stored.open_id == DEMO_USER_OPEN_ID


async def test_state_mismatch_is_refused_and_nothing_stored(live: Live) -> None:
    mine, other = PendingLogin(request_for(live)), PendingLogin(request_for(live))
    with pytest.raises(LoginFailed, match="state mismatch"):
        await mine.finish(live.sb.consent(other.url), store_of(live), None)
    assert not store_of(live).path.exists() and live.sb.stats.token_grants["authorization_code"] == 0


async def test_pkce_verifier_mismatch_is_refused_and_nothing_stored(live: Live) -> None:
    pending = PendingLogin(request_for(live))
    query = parse_qs(urlsplit(pending.url).query)
    # An attacker's authorization request: same state, but a challenge for a verifier we do not hold.
    forged = pending.url.replace(query["code_challenge"][0], create_s256_code_challenge("x" * 64))
    with pytest.raises(LoginFailed, match=r"20049.*PKCE"):
        await pending.finish(live.sb.consent(forged), store_of(live), None)
    assert not store_of(live).path.exists()


async def test_reused_code_is_refused(live: Live) -> None:
    pending = PendingLogin(request_for(live))
    callback = live.sb.consent(pending.url)
    await pending.finish(callback, store_of(live), None)
    before = store_of(live).path.read_bytes()
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(LoginFailed, match=r"20065.*already used") as caught:
        await pending.exchange(code)
    assert code not in str(caught.value)
    assert store_of(live).path.read_bytes() == before


async def test_expired_code_is_refused_and_nothing_stored(live: Live) -> None:
    pending = PendingLogin(request_for(live))
    callback = live.sb.consent(pending.url)
    live.sb.advance(301)  # codes live 5 minutes
    with pytest.raises(LoginFailed, match=r"20004.*expired"):
        await pending.finish(callback, store_of(live), None)
    assert not store_of(live).path.exists()


async def test_denial_is_clear_and_nothing_stored(live: Live) -> None:
    pending = PendingLogin(request_for(live))
    with pytest.raises(LoginFailed, match="declined"):
        await pending.finish(live.sb.consent(pending.url, approve=False), store_of(live), None)
    assert not store_of(live).path.exists()


async def test_dead_refresh_token_names_the_login_command(live: Live) -> None:
    await signed_in(live)
    live.sb.revoke_refresh_tokens()
    live.sb.expire_access_tokens()
    error, text = await call_tool(live.settings(FEISHU_PROFILE="default"), "view_instances", WINDOW)
    assert error and "20064" in text and f"feishu-calendar-mcp login --domain {live.base_url} --profile default" in text


def test_no_secret_in_debug_logs_output_results_or_errors(
    live: Live, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for name, value in live.environ(FEISHU_LOG_LEVEL="DEBUG").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(webbrowser, "open", live.browser_in_background()[0])
    assert cli.main(["login", "--timeout", "20"]) == 0  # login through the CLI
    settings = live.settings(FEISHU_LOG_LEVEL="DEBUG")
    outputs = [str(anyio.run(call_tool, settings, "view_instances", WINDOW))]
    live.sb.expire_access_tokens()
    outputs.append(str(anyio.run(call_tool, settings, "view_instances", WINDOW)))  # refresh + replay
    assert cli.main(["status"]) == 0
    live.sb.revoke_refresh_tokens()
    live.sb.expire_access_tokens()
    outputs.append(str(anyio.run(call_tool, settings, "view_instances", WINDOW)))  # dead login: an error
    monkeypatch.setattr(webbrowser, "open", live.browser_in_background(approve=False)[0])
    assert cli.main(["login", "--timeout", "20"]) == 1  # a failed login's error
    assert cli.main(["logout"]) == 0

    world = live.sb.world
    token_bodies = [e.body for e in live.sb.log.matching("POST", "/oauth/v3/token")]
    secrets = {APP_SECRET, *world.access_tokens, *world.refresh_tokens, *world.codes}
    secrets |= {b["code_verifier"] for b in token_bodies if "code_verifier" in b}
    assert len(secrets) >= 7 and len(token_bodies) == 3  # code exchange, refresh, refused refresh
    printed = capsys.readouterr()
    seen = "\n".join([caplog.text, printed.out, printed.err, *outputs, repr(token_source(settings))])
    assert "refreshed the user access token" in caplog.text, "DEBUG logging really ran through the refresh"
    assert "you declined" in printed.err and "20064" in outputs[-1]
    leaked = [s[:6] for s in secrets if s in seen]
    assert leaked == []


async def test_the_token_url_is_configurable(live: Live) -> None:
    settings = live.settings(FEISHU_OAUTH_TOKEN_URL=f"{live.base_url}/open-apis/authen/v2/oauth/token")
    pending = PendingLogin(login_request(settings, live.port))
    result = await pending.finish(live.sb.consent(pending.url), store_of(live), None)
    assert result.record.open_id == DEMO_USER_OPEN_ID
    assert len(live.sb.log.matching("POST", "/open-apis/authen/v2/oauth/token")) == 1
    assert live.sb.log.matching("POST", "/oauth/v3/token") == []


async def test_an_app_not_allowed_to_refresh_says_which_switch(live: Live) -> None:
    await signed_in(live)
    live.sb.world.apps[APP_ID].allow_refresh = False
    live.sb.expire_access_tokens()
    error, text = await call_tool(live.settings(), "view_instances", WINDOW)
    assert error and "20074" in text and "turn on 'refresh user_access_token'" in text
    assert f"feishu-calendar-mcp login --domain {live.base_url}" in text
