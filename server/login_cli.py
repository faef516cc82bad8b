"""`feishu-calendar-mcp login | logout | status`: sign a Feishu user in, out, and say who is in.

None of them ever prints a token. ``status`` tells which store is used and that
FEISHU_USER_ACCESS_TOKEN, when set, takes precedence over the store.
"""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from auth.errors import AuthError, StoreDamaged
from auth.login import DEFAULT_TIMEOUT, OFFLINE_ACCESS, LoginResult, login_with_browser, login_with_paste
from auth.oauth import fetch_user_info
from auth.record import TokenRecord
from auth.store import Damage, delete_profile
from server.settings import Settings
from server.tokens import (
    credentials,
    endpoints,
    login_command,
    login_request,
    login_scopes,
    token_store,
    user_tokens,
)


def add_login_commands(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    login = commands.add_parser("login", help="sign in to Feishu/Lark in the browser and store the tokens")
    common(login)
    login.add_argument(
        "--port", type=int, help="loopback port of the redirect http://127.0.0.1:PORT/callback (default 17653)"
    )
    login.add_argument(
        "--no-browser", action="store_true", help="print the URL only; paste back the address the browser ends on"
    )
    login.add_argument("--scope", action="append", default=[], help="an extra scope to request (repeatable)")
    login.add_argument("--toolsets", help="ask for the scopes of these toolsets (default: the served ones)")
    login.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the browser")
    login.add_argument("--token-url", help="OAuth token endpoint (default: v3 on the brand's accounts host)")
    login.add_argument("--authorize-url", help="OAuth authorization page")
    login.add_argument(
        "--sandbox",
        action="store_true",
        help="show the whole sign-in against the built-in sandbox (a throwaway store; with --no-browser, headless)",
    )

    logout = commands.add_parser("logout", help="remove the stored tokens of a profile")
    common(logout)

    status = commands.add_parser("status", help="who is signed in, granted scopes, expiry, which store")
    common(status)


def run_login_command(
    args: argparse.Namespace,
    load_settings: Callable[..., Settings],
    configure_logging: Callable[[str], None],
    *,
    out: TextIO | None = None,
    read_line: Callable[[], str] = sys.stdin.readline,
) -> int:
    out = out or sys.stderr
    if args.command == "login" and args.sandbox:
        from server.sandbox_login import run_sandbox_login

        def login(a: argparse.Namespace, s: Settings, o: TextIO, opener: Callable[[str], object] | None) -> Any:
            return _login(a, s, o, read_line, opener)

        try:
            return run_sandbox_login(args, load_settings, configure_logging, out, login, _status)
        except AuthError as exc:
            print(f"error: {exc}", file=out)
            return 1
    overrides: dict[str, Any] = {}
    if args.command == "login":
        overrides = {
            "login_port": args.port,
            "toolsets": args.toolsets,
            "token_url": args.token_url,
            "authorize_url": args.authorize_url,
        }
    settings = load_settings(args, **overrides)
    configure_logging(settings.log_level)
    try:
        if args.command == "login":
            return anyio.run(_login, args, settings, out, read_line)
        if args.command == "logout":
            return _logout(settings, out)
        return anyio.run(_status, settings, out)
    except StoreDamaged as exc:
        print(f"error: {exc.with_commands(login_command(settings), login_command(settings, 'logout'))}", file=out)
        return 1
    except AuthError as exc:
        print(f"error: {exc}", file=out)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; nothing was stored.", file=out)
        return 130


async def _login(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO,
    read_line: Callable[[], str],
    open_browser: Callable[[str], object] | None = None,
) -> int:
    store = token_store(settings)
    request = login_request(settings, settings.login_port, tuple(args.scope))

    def announce(url: str) -> None:
        print("Open this address to sign in to Feishu and approve access:\n\n  " + url + "\n", file=out, flush=True)

    result: LoginResult
    if args.no_browser and open_browser is None:

        async def read_redirect() -> str:
            print("After approving, the browser goes to an address starting with", file=out)
            print(f"{request.redirect_uri} (it may fail to load). Paste that whole address here:", file=out)
            return (await anyio.to_thread.run_sync(read_line)).strip()

        result = await login_with_paste(
            request, store, settings.profile, announce=announce, read_redirect=read_redirect
        )
    else:
        result = await login_with_browser(
            request,
            store,
            settings.profile,
            port=settings.login_port,
            announce=announce,
            open_browser=open_browser or webbrowser.open,  # runs the browser directly, no shell
            timeout=args.timeout,
        )
    print(f"Signed in as {result.record.name or result.record.open_id} (profile {result.profile}).", file=out)
    print(f"Tokens stored in {store.description}.", file=out)
    for warning in result.warnings:
        print(f"warning: {warning}", file=out)
    if settings.user_access_token.get_secret_value():
        print("note: FEISHU_USER_ACCESS_TOKEN is set and takes precedence over this login.", file=out)
    return 0


def _logout(settings: Settings, out: TextIO) -> int:
    store = token_store(settings)
    removed = delete_profile(store, settings.profile)
    name = settings.profile or "the default profile"
    if removed is None:
        print(f"Nobody was signed in under {name} ({store.description}).", file=out)
        return 0
    if isinstance(removed, Damage) and removed.whole_store:
        print(f"Removed the token store, which {removed.reason}; {store.description} now holds no sign-in.", file=out)
        return 0
    if isinstance(removed, Damage):
        print(f"Removed the damaged sign-in of {name} ({removed.reason}) from {store.description}.", file=out)
        return 0
    print(
        f"Signed out {removed.name or removed.open_id} from {name}; tokens removed from {store.description}.", file=out
    )
    print("To also revoke the app's access, remove it under Feishu > Settings > Privacy > Authorized apps.", file=out)
    return 0


def _until(moment: float, now: float) -> str:
    if not moment:
        return "unknown"
    left = moment - now
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))
    if left <= 0:
        return f"expired ({stamp})"
    hours, rest = divmod(int(left), 3600)
    return f"{stamp} (in {hours}h{rest // 60:02d}m)"


async def _status(settings: Settings, out: TextIO) -> int:
    if settings.user_access_token.get_secret_value():
        print("Using FEISHU_USER_ACCESS_TOKEN (takes precedence over any stored login; never refreshed).", file=out)
    store = token_store(settings)
    data = await anyio.to_thread.run_sync(store.read)
    record: TokenRecord | None = data.record(settings.profile)  # a damaged store: one line, from the caller
    print(f"Store: {store.description}", file=out)
    if data.profiles:
        print(
            "Profiles: " + ", ".join(f"{p}{' (default)' if p == data.default else ''}" for p in sorted(data.profiles)),
            file=out,
        )
    profile = data.profile_name(settings.profile)
    if record is None:
        print(f"Profile {profile}: not signed in. Run `feishu-calendar-mcp login`.", file=out)
        return 1
    now = time.time()
    print(f"Profile {profile}: app {record.app_id}, open_id {record.open_id}", file=out)
    print(f"Scopes: {record.scope or '(not reported)'}", file=out)
    missing = [s for s in login_scopes(settings) if s != OFFLINE_ACCESS and s not in record.scopes]
    if record.scope and missing:
        extra = " ".join(f"--scope {s}" for s in missing)
        print(f"Missing for the offered tools: {' '.join(missing)} (run `feishu-calendar-mcp login {extra}`)", file=out)
    print(f"Access token expires: {_until(record.expires_at, now)}", file=out)
    print(
        f"Refresh token expires: {_until(record.refresh_expires_at, now) if record.refresh_token else 'none stored'}",
        file=out,
    )
    try:
        token = await user_tokens(settings).access_token()
        user = await fetch_user_info(endpoints(settings).api_base, token)
    except AuthError as exc:
        print(f"Signed in as: {record.name or record.open_id} (could not confirm with Feishu: {exc})", file=out)
        return 1
    print(f"Signed in as: {user.name} ({user.open_id}), confirmed by Feishu user_info", file=out)
    if credentials(settings).app_id != record.app_id:
        print(f"warning: this login is for app {record.app_id}, but FEISHU_APP_ID is {settings.app_id}", file=out)
    return 0
