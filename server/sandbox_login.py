"""``login --sandbox``: the whole sign-in, shown against the built-in sandbox, then ``status``.

It starts the sandbox on a loopback port, signs in as its demo app exactly as ``login`` does with a
real Feishu app (authorization page, consent, loopback redirect, code exchange with PKCE, token
store, user_info), and prints ``status``. The tokens go to a throwaway store that is deleted at the
end: your real logins, profiles and settings are never touched.

With ``--no-browser`` nobody has to click: an HTTP client plays the browser (loads the consent page,
approves as the demo user, follows the redirect to the loopback listener).
"""

from __future__ import annotations

import argparse
import html
import re
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from sandbox import DEMO_APP_ID, DEMO_APP_SECRET, Sandbox, running
from server.settings import Settings


def sandbox_settings(
    args: argparse.Namespace, load_settings: Callable[..., Settings], base_url: str, store: Path
) -> Settings:
    """The login settings for the sandbox's demo app; every setting that could point elsewhere is pinned."""
    args.domain = base_url
    return load_settings(
        args,
        app_id=DEMO_APP_ID,
        app_secret=DEMO_APP_SECRET,
        user_access_token="",
        config_dir=store,
        token_store="file",  # noqa: S106 (a backend name, not a secret)
        token_url=f"{base_url}/oauth/v3/token",
        authorize_url=f"{base_url}/open-apis/authen/v1/authorize",
        login_port=args.port,
        toolsets=args.toolsets,
    )


class HeadlessBrowser:
    """Does what the user's browser would: show the consent page, approve, follow the redirect."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._threads: list[threading.Thread] = []
        self.failure: str = ""

    def open(self, url: str) -> bool:
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)

    def _visit(self, url: str) -> None:
        # urllib, not httpx2: these are the browser's requests, not the program's.
        try:
            with urllib.request.urlopen(url, timeout=30) as page:  # noqa: S310 (the sandbox on loopback)
                consent = page.read().decode()
            title = re.search(r"<h1>(.*?)</h1>", consent)
            print(f"[browser] consent page: {html.unescape(title.group(1)) if title else 'shown'}", file=self._out)
            fields = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))
            fields["decision"] = "approve"
            action = urllib.parse.urljoin(url, urllib.parse.urlsplit(url).path)
            print(
                "[browser] approving as the demo user; following the redirect to the loopback listener", file=self._out
            )
            # The consent form answers with a 302 to our redirect URI; urllib follows it with a GET.
            with urllib.request.urlopen(action, data=urllib.parse.urlencode(fields).encode(), timeout=30) as done:  # noqa: S310
                done.read()
        except OSError as exc:
            self.failure = str(exc)
            print(f"[browser] failed: {exc}", file=self._out)


def run_sandbox_login(
    args: argparse.Namespace,
    load_settings: Callable[..., Settings],
    configure_logging: Callable[[str], None],
    out: TextIO,
    login: Callable[..., Any],
    status: Callable[..., Any],
) -> int:
    """Sign in to a sandbox started here, show status, stop it; returns the exit status."""
    import anyio

    sb = Sandbox(seed=True)
    with running(sb) as base_url, tempfile.TemporaryDirectory(prefix="feishu-sandbox-login-") as tmp:
        settings = sandbox_settings(args, load_settings, base_url, Path(tmp))
        configure_logging(settings.log_level)
        redirect = f"http://127.0.0.1:{settings.login_port}/callback"
        app = sb.world.apps[DEMO_APP_ID]
        if redirect not in app.redirect_uris:
            # What you would do in the developer console for another port: register its redirect URL.
            app.redirect_uris.append(redirect)
        print(
            f"Sandbox (emulated Feishu with demo data) on {base_url}; signing in with its demo app {DEMO_APP_ID}",
            file=out,
        )
        print(f"(redirect URL {redirect}; tokens go to a throwaway store, your own logins are not touched)", file=out)
        browser = HeadlessBrowser(out) if args.no_browser else None
        opener = browser.open if browser is not None else None
        code = anyio.run(login, args, settings, out, opener)
        if browser is not None:
            browser.join()
        if code != 0:
            return int(code)
        print("\n$ feishu-calendar-mcp status   (against the sandbox)", file=out)
        code = anyio.run(status, settings, out)
        print(
            "\nThe sandbox stops now and the throwaway store is deleted. To use the tools on it: "
            "feishu-calendar-mcp serve --sandbox",
            file=out,
        )
        return int(code)
