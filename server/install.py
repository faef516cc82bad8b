"""``feishu-calendar-mcp install <client>``: that client's entry for this server, printed or written.

The entry runs this very program by its absolute path: the README's install leaves the command in
``.venv/bin``, which no assistant has on its PATH (a bare ``feishu-calendar-mcp`` fails with ENOENT).

``--write`` merges the entry into the client's JSON config: every other server and setting is kept,
the old file is copied to ``<file>.bak`` first, and the new one replaces it atomically. The entry
carries the FEISHU_* settings of the shell it runs in; the app secret goes only into a written file,
never to stdout (printed entries show a placeholder).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

SECRET_PLACEHOLDER = "your_app_secret"  # noqa: S105 (a placeholder, not a secret)
APP_ID_PLACEHOLDER = "cli_your_app_id"
# Settings an entry carries over from this shell. FEISHU_USER_ACCESS_TOKEN is left out on purpose:
# it expires within hours and would sit in the client's config.
CARRIED = (
    "FEISHU_APP_ID",
    "FEISHU_APP_SECRET",
    "FEISHU_DOMAIN",
    "FEISHU_TIMEZONE",
    "FEISHU_PROFILE",
    "FEISHU_TOOLSETS",
    "FEISHU_READ_ONLY",
    "FEISHU_CONFIG_DIR",
    "FEISHU_TOKEN_STORE",
)


@dataclass(frozen=True)
class ClientKind:
    """One assistant: its display name, the top-level key of its config, and whether entries say ``type``."""

    title: str
    servers_key: str
    typed: bool


CLIENTS = {
    "claude-desktop": ClientKind("Claude Desktop", "mcpServers", typed=False),
    "cursor": ClientKind("Cursor", "mcpServers", typed=False),
    "vscode": ClientKind("VS Code", "servers", typed=True),  # VS Code's own format: "servers", "type"
    "claude-code": ClientKind("Claude Code", "", typed=False),  # configured with `claude mcp add`
}


def config_path(client: str, environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where the client keeps its user-wide MCP config on this OS."""
    home = Path(environ.get("HOME") or environ.get("USERPROFILE") or Path.home())
    if platform == "darwin":
        app_support = home / "Library" / "Application Support"
    elif platform == "win32":
        app_support = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        app_support = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    if client == "claude-desktop":
        # macOS and Windows builds are official; Linux community builds read the XDG path.
        return app_support / "Claude" / "claude_desktop_config.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    if client == "vscode":
        return app_support / "Code" / "User" / "mcp.json"
    raise ValueError(f"{client} has no config file to write; run the printed `claude mcp add` line")


def server_command(executable: str = sys.executable, argv0: str = sys.argv[0]) -> list[str]:
    """The absolute command that starts this program, independent of PATH and of the current folder."""
    scripts = Path(os.path.abspath(executable)).parent  # abspath, not resolve: a venv's python is a symlink
    for name in ("feishu-calendar-mcp", "feishu-calendar-mcp.exe"):
        if (scripts / name).is_file():
            return [str(scripts / name)]
    launched = Path(os.path.abspath(argv0))
    if launched.stem == "feishu-calendar-mcp" and launched.is_file():
        return [str(launched)]
    # No console script (run from a checkout as `python -m server`): -P keeps the current folder off
    # sys.path, so a stray tools.py where the client starts cannot shadow ours.
    return [os.path.abspath(executable), "-P", "-m", "server"]


def entry(
    kind: ClientKind, command: Sequence[str], environ: Mapping[str, str], *, sandbox: bool, reveal: bool
) -> dict[str, Any]:
    """The server's entry in a JSON config; ``reveal`` puts the real app secret in (files only)."""
    args = [*command[1:], "serve"] + (["--sandbox"] if sandbox else [])
    value: dict[str, Any] = {"type": "stdio"} if kind.typed else {}
    value |= {"command": command[0], "args": args}
    env = {} if sandbox else entry_env(environ, reveal=reveal)
    if env:
        value["env"] = env
    return value


def entry_env(environ: Mapping[str, str], *, reveal: bool) -> dict[str, str]:
    env = {name: environ[name] for name in CARRIED if environ.get(name)}
    env.setdefault("FEISHU_APP_ID", APP_ID_PLACEHOLDER)
    if not reveal or "FEISHU_APP_SECRET" not in env:
        env["FEISHU_APP_SECRET"] = SECRET_PLACEHOLDER
    return dict(sorted(env.items()))


def claude_code_line(name: str, command: Sequence[str], environ: Mapping[str, str], *, sandbox: bool) -> str:
    parts = ["claude", "mcp", "add", "--scope", "user", name]
    if not sandbox:
        for key, value in entry_env(environ, reveal=False).items():
            shown = f'{key}="${key}"' if key == "FEISHU_APP_SECRET" and environ.get(key) else f"{key}={value}"
            parts += ["-e", shown]
    parts += ["--", *command, "serve"] + (["--sandbox"] if sandbox else [])
    # The secret stays a shell variable ("$FEISHU_APP_SECRET") that the user's shell expands.
    return " ".join(p if p.endswith('"$FEISHU_APP_SECRET"') else shlex.quote(p) for p in parts)


class InstallError(Exception):
    """A config file that cannot be merged safely; nothing was changed."""


def merge_into(path: Path, kind: ClientKind, name: str, value: dict[str, Any]) -> str:
    """Put ``value`` under ``name`` in the config at ``path``, keeping everything else; returns what happened."""
    from auth.private import problem, write_private  # here: `serve` builds this parser without auth/

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {problem(exc)}") from exc
    try:
        config = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise InstallError(
            f"{path} is not plain JSON ({exc.msg} at line {exc.lineno}; comments are not supported): "
            "add the entry by hand (run without --write to print it)"
        ) from exc
    servers = config.setdefault(kind.servers_key, {}) if isinstance(config, dict) else None
    if not isinstance(servers, dict):
        raise InstallError(f"{path}: the top level or its {kind.servers_key!r} is not a JSON object; nothing changed")
    action = "replaced" if name in servers else "added"
    servers[name] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if text:
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        write_private(path, (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise InstallError(f"cannot write {path}: {problem(exc)}") from exc
    return action


def add_install_command(commands: Any) -> None:
    install = commands.add_parser(
        "install", help="print (or --write) an assistant's config entry that runs this server by its absolute path"
    )
    install.add_argument("client", choices=sorted(CLIENTS))
    install.add_argument("--write", action="store_true", help="merge the entry into the client's config file")
    install.add_argument("--config", type=Path, help="the config file to write (default: the client's user config)")
    install.add_argument("--sandbox", action="store_true", help="an entry for the built-in sandbox (no credentials)")
    install.add_argument("--name", help="the server's name in the client (default feishu-calendar[-sandbox])")


def run_install(args: argparse.Namespace, out: TextIO, err: TextIO, environ: Mapping[str, str] = os.environ) -> int:
    kind = CLIENTS[args.client]
    name = args.name or ("feishu-calendar-sandbox" if args.sandbox else "feishu-calendar")
    command = server_command()
    if args.client == "claude-code":
        if args.write or args.config:
            print("error: Claude Code is configured with its own command; run the line below", file=err)
        print(claude_code_line(name, command, environ, sandbox=args.sandbox), file=out)
        return 2 if args.write or args.config else 0
    if not args.write:
        shown = {kind.servers_key: {name: entry(kind, command, environ, sandbox=args.sandbox, reveal=False)}}
        print(json.dumps(shown, indent=2), file=out)
        where = args.config or config_path(args.client, environ)
        print(f"(merge it into {where}, or run again with --write)", file=err)
        return 0
    path = args.config or config_path(args.client, environ)
    try:
        action = merge_into(path, kind, name, entry(kind, command, environ, sandbox=args.sandbox, reveal=True))
    except InstallError as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(f"{action} {name!r} in {path} (previous version: {path.name}.bak if there was one)", file=err)
    if not args.sandbox and "FEISHU_APP_SECRET" not in environ:
        print("note: FEISHU_APP_ID / FEISHU_APP_SECRET are placeholders there: fill in your app's.", file=err)
    print(f"Restart {kind.title} to load it.", file=err)
    return 0
