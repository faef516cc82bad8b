"""`login --sandbox`: the whole sign-in against the sandbox, headless or through the browser, then status."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import webbrowser
from pathlib import Path

import pytest

from bench.procs import free_port
from sandbox import DEMO_APP_ID, Sandbox
from sandbox.oauth import validate_authorize
from sandbox.tokens import OAuthFault
from server import cli
from server.sandbox_login import HeadlessBrowser

ROOT = Path(__file__).resolve().parent.parent
# The sandbox's user and refresh tokens, standing alone: not a "-u-..." run inside the printed
# authorize URL's random state or PKCE challenge (base64url), which once failed this test by chance.
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[ur]-[A-Za-z0-9_-]{16,}")


def test_headless_sign_in_through_the_real_cli_touches_nothing_of_yours(tmp_path: Path) -> None:
    mine = tmp_path / "my-config"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")} | {
        "FEISHU_CONFIG_DIR": str(mine),  # where the user's real logins live
        "FEISHU_APP_ID": "cli_my_real_app",  # the user's real app: not used for the sandbox
        "FEISHU_APP_SECRET": "my-real-secret",
        "FEISHU_DOMAIN": "https://open.feishu.cn",
        "FEISHU_USER_ACCESS_TOKEN": "u-my-real-token",
        "FEISHU_TIMEZONE": "Asia/Shanghai",
    }
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "server", "login", "--sandbox", "--no-browser", "--port", str(port)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = done.stderr
    steps = [
        f"signing in with its demo app {DEMO_APP_ID}",
        f"(redirect URL http://127.0.0.1:{port}/callback;",
        "/open-apis/authen/v1/authorize?client_id=cli_sandbox0demo0app",
        "code_challenge_method=S256",
        "[browser] consent page: ",
        "[browser] approving as the demo user",
        "Signed in as 演示用户 (profile default).",
        "$ feishu-calendar-mcp status",
        "Profile default: app cli_sandbox0demo0app, open_id ou_sandbox0demo0user",
        "Refresh token expires: ",
        "Signed in as: 演示用户 (ou_sandbox0demo0user00000000000001), confirmed by Feishu user_info",
        "The sandbox stops now",
    ]
    positions = [shown.find(step) for step in steps]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), shown  # every step, in order
    assert "FEISHU_USER_ACCESS_TOKEN" not in shown and "cli_my_real_app" not in shown
    assert not TOKEN.search(shown), "no token is ever shown"
    assert done.stdout == ""
    assert not mine.exists()  # the throwaway store was elsewhere, and is gone
    throwaway = re.search(r"Tokens stored in file (\S+)/tokens\.json", shown)
    assert throwaway and not Path(throwaway.group(1)).exists()


def test_the_browser_path_opens_the_users_browser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The user's browser, played by the same steps a person would click through.
    browser = HeadlessBrowser(io.StringIO())
    opened: list[str] = []

    def open_browser(url: str) -> bool:
        opened.append(url)
        return browser.open(url)

    monkeypatch.setattr(webbrowser, "open", open_browser)
    assert cli.main(["login", "--sandbox", "--port", str(free_port()), "--timeout", "30"]) == 0
    browser.join()
    assert len(opened) == 1 and "/open-apis/authen/v1/authorize?" in opened[0] and not browser.failure
    err = capsys.readouterr().err
    assert "[browser]" not in err  # no headless browser of ours: the (stand-in) user's
    assert "confirmed by Feishu user_info" in err


def test_the_sandbox_accepts_logins_default_redirect_and_nothing_near_it() -> None:
    sb = Sandbox(seed=True)
    base = {"client_id": DEMO_APP_ID, "response_type": "code"}
    assert validate_authorize(sb, base | {"redirect_uri": "http://127.0.0.1:17653/callback"})
    for near in (
        "http://127.0.0.1:17654/callback",
        "http://127.0.0.1:17653/callback/",
        "http://localhost:17653/callback",
    ):
        with pytest.raises(OAuthFault) as refused:
            validate_authorize(sb, base | {"redirect_uri": near})
        assert refused.value.code == 20029
