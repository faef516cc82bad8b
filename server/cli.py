"""The `feishu-calendar-mcp` command: serve, sandbox, demo, install, login, logout, status.

login, logout and status live in server/login_cli.py, install in server/install.py.

Imports are lazy per subcommand so that `serve` starts without loading the sandbox,
the OAuth stack or anything else a plain tool call does not touch.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from server import heap
from server.clock import Clock, sandbox_clock

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from server.settings import Settings
    from server.state import AppState

log = logging.getLogger("feishu_calendar_mcp")
DEFAULT_HTTP_PORT = 8765
DEFAULT_SANDBOX_PORT = 8900


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", help="feishu (default), lark, or a base URL (env FEISHU_DOMAIN)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (default) or ERROR (env FEISHU_LOG_LEVEL)")
    parser.add_argument("--profile", help="signed-in account to use (env FEISHU_PROFILE)")


def build_parser(*, login_commands: bool = True) -> argparse.ArgumentParser:
    from server import __version__

    parser = argparse.ArgumentParser(prog="feishu-calendar-mcp", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    _common(serve)
    serve.add_argument("--sandbox", action="store_true", help="use the built-in Feishu emulator with demo data")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--port", type=int, default=DEFAULT_HTTP_PORT, help="HTTP port on 127.0.0.1 (0: any free port)")
    serve.add_argument("--timezone", help="your IANA timezone for times without offset (env FEISHU_TIMEZONE)")
    serve.add_argument("--toolsets", help="comma-separated toolsets or 'all' (env FEISHU_TOOLSETS)")
    serve.add_argument("--read-only", action="store_true", default=None, help="only tools that change nothing")
    team = serve.add_argument_group("team mode (one server for many users: docs/team-mode.md)")
    team.add_argument("--public-url", help="the https:// origin users' assistants connect to (env FEISHU_PUBLIC_URL)")
    team.add_argument("--redis-url", help="shared state of all replicas (env FEISHU_REDIS_URL)")
    team.add_argument("--host", help="address to bind in team mode (default 127.0.0.1; 0.0.0.0 in a container)")

    sandbox = commands.add_parser("sandbox", help="serve the Feishu emulator on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=DEFAULT_SANDBOX_PORT)
    sandbox.add_argument("--admin", action="store_true", help="enable the /_sandbox/ fault-injection routes")

    commands.add_parser("demo", help="a scripted tour of the tools against the sandbox")

    from server.install import add_install_command

    add_install_command(commands)

    if login_commands:
        # login/logout/status import the OAuth stack (authlib: ~60 ms of CPU).
        from server.login_cli import add_login_commands

        add_login_commands(commands, _common)
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    from server.settings import Settings

    return Settings.load(
        os.environ,
        domain=getattr(args, "domain", None),
        log_level=getattr(args, "log_level", None),
        profile=getattr(args, "profile", None),
        timezone=getattr(args, "timezone", None),
        **extra,
    )


def _configure_logging(level: str) -> None:
    # On stdio, stdout is the protocol: every log line goes to stderr.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _sandbox_clock() -> Clock:
    """The sandbox commands' clock (FEISHU_SANDBOX_NOW pins it for tests); a bad value is one line."""
    try:
        return sandbox_clock(os.environ)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def sandbox_server(settings: Settings, clock: Clock) -> MCPServer[AppState]:
    """The full tool set backed by an in-process sandbox with seed data and no credentials.

    The server and the sandbox share ``clock``: the tools' "today" is the sandbox world's.
    """
    from sandbox import Sandbox
    from server.app import build_server
    from server.static_token import StaticToken

    sb = Sandbox(seed=True, clock=clock)
    token = StaticToken(sb.demo_token, identity="sandbox:demo")
    return build_server(settings, token, transport=sb.transport(), clock=clock)


def _serve(args: argparse.Namespace) -> int:
    # An assistant starts this for every session: no garbage collections until the server is
    # built, then the collector's serving schedule (server/heap.py), in team mode as well.
    heap.starting()
    toolsets = args.toolsets
    if args.sandbox and toolsets is None and "FEISHU_TOOLSETS" not in os.environ:
        toolsets = "all"  # the sandbox is for trying things: every tool, unless asked otherwise
    settings = _settings(args, sandbox=args.sandbox or None, toolsets=toolsets, read_only=args.read_only)
    _configure_logging(settings.log_level)
    if args.public_url or os.environ.get("FEISHU_PUBLIC_URL"):
        from server.team.app import serve_team  # only team mode loads Redis, joserfc, the AS

        return serve_team(args, settings, os.environ)
    from server.static_token import env_token  # light: no OAuth stack behind it

    if settings.sandbox:
        clock = _sandbox_clock()
        log.warning("serving the SANDBOX (emulated Feishu with demo data), not your real calendar")
        server = sandbox_server(settings, clock)
    elif (static := env_token(settings)) is not None:
        from server.app import build_server

        server = build_server(settings, static)
    else:
        from auth.errors import AuthError
        from server.app import build_server
        from server.signin import remember_url_elicitation
        from server.tokens import StoredLogin, token_source

        try:
            tokens = token_source(settings)
        except AuthError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        server = build_server(settings, tokens)
        if isinstance(tokens, StoredLogin):
            server.middleware.append(remember_url_elicitation)
    heap.serving()
    if args.transport == "http":
        from server.http_local import serve_http

        try:
            serve_http(server, settings, args.port, sys.stdout)
        except OSError as exc:
            print(f"error: cannot serve HTTP on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
            return 1
    else:
        import anyio

        from server.stdio import run_stdio

        anyio.run(run_stdio, server)
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox import DEMO_APP_ID, DEMO_APP_SECRET, Sandbox, serve

    _configure_logging("INFO")
    heap.starting()
    sb = Sandbox(seed=True, admin=args.admin, clock=_sandbox_clock())
    heap.serving()  # the seed world lives as long as the process, like a server's start-up objects
    print(f"sandbox on http://127.0.0.1:{args.port}  demo user token: {sb.demo_token}", file=sys.stderr)
    # The demo app's credentials are published fakes: with them `login` signs in here as with Feishu.
    print(
        f"demo app for `login`: FEISHU_DOMAIN=http://127.0.0.1:{args.port} FEISHU_APP_ID={DEMO_APP_ID} "
        f"FEISHU_APP_SECRET={DEMO_APP_SECRET}",
        file=sys.stderr,
    )
    serve(sb, host="127.0.0.1", port=args.port)
    return 0


def _demo(args: argparse.Namespace) -> int:
    import anyio

    from server.demo import run_demo

    return anyio.run(run_demo, sys.stdout)


def _install(args: argparse.Namespace) -> int:
    from server.install import run_install

    return run_install(args, sys.stdout, sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    handlers = {"serve": _serve, "sandbox": _sandbox, "demo": _demo, "install": _install}
    # serve runs once per assistant session: parse it without the login commands' imports.
    args = build_parser(login_commands=not arguments or arguments[0] not in handlers).parse_args(arguments)
    from server.settings import SettingsError

    try:
        if args.command in handlers:
            return handlers[args.command](args)
        from server.login_cli import run_login_command

        return run_login_command(args, _settings, _configure_logging)
    except SettingsError as exc:
        # Like argparse's own usage errors: one line on stderr, exit status 2.
        print(f"feishu-calendar-mcp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
