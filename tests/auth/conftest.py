"""The sandbox's OAuth on a real loopback port, an app registered for a free redirect port, settings on both."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox import Sandbox, running
from server.settings import Settings

APP_ID = "cli_auth0tests0app"
APP_SECRET = "auth-tests-app-secret-0123456789"  # a sandbox-only fake


@dataclass
class Live:
    """A sandbox served on loopback, and everything a login against it needs."""

    sb: Sandbox
    base_url: str
    port: int
    config_dir: Path

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def environ(self, **extra: str) -> dict[str, str]:
        return {
            "FEISHU_APP_ID": APP_ID,
            "FEISHU_APP_SECRET": APP_SECRET,
            "FEISHU_DOMAIN": self.base_url,
            "FEISHU_CONFIG_DIR": str(self.config_dir),
            "FEISHU_LOGIN_PORT": str(self.port),
            "FEISHU_TIMEZONE": "Asia/Shanghai",
            **extra,
        }

    def settings(self, **extra: str) -> Settings:
        return Settings.load(self.environ(**extra))

    def play_browser(self, authorize_url: str, *, approve: bool = True) -> tuple[int, str]:
        """What a user's browser does: consent (or deny), then follow the redirect to the loopback.

        urllib, not httpx2: a browser's request is not ours to log, and httpx2 logs URLs (with the code).
        """
        redirect = self.sb.consent(authorize_url, approve=approve)
        try:
            with urllib.request.urlopen(redirect, timeout=10) as page:
                return page.status, page.read().decode()
        except urllib.error.HTTPError as failed:
            return failed.code, failed.read().decode()

    def browser_in_background(
        self, *, approve: bool = True
    ) -> tuple[Callable[[str], bool], Callable[[], list[tuple[int, str]]]]:
        """A stand-in for webbrowser.open that plays the browser from another thread, like a real one,
        and a function giving the pages it saw once it is done (the login can finish before the
        browser has read the last page, so that list is only complete after joining)."""
        pages: list[tuple[int, str]] = []
        browsers: list[threading.Thread] = []

        def open_browser(url: str) -> bool:
            browser = threading.Thread(target=lambda: pages.append(self.play_browser(url, approve=approve)))
            browsers.append(browser)
            browser.start()
            return True

        def pages_seen() -> list[tuple[int, str]]:
            for browser in browsers:
                browser.join(timeout=15)
            return pages

        return open_browser, pages_seen


@pytest.fixture
def live(tmp_path: Path, free_tcp_port: int) -> Iterator[Live]:
    sb = Sandbox(seed=True)
    sb.register_app(APP_ID, APP_SECRET, [f"http://127.0.0.1:{free_tcp_port}/callback"])
    with running(sb) as base_url:
        yield Live(sb, base_url, free_tcp_port, tmp_path / "config")
