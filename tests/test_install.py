"""`feishu-calendar-mcp install <client>`: each client's entry, by absolute path, printed or merged in."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.install import config_path, server_command

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(os.path.abspath(sys.executable)).parent / "feishu-calendar-mcp"  # the venv's console script


def install(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}
    return subprocess.run(
        [str(SCRIPT), "install", *args],
        env={**base, "HOME": str(cwd), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def stray_folder(tmp_path: Path) -> Path:
    """A folder as a client may start in: a tools.py there would shadow ours under `python -m`."""
    (tmp_path / "tools.py").write_text("raise SystemExit('the wrong tools module was imported')\n")
    (tmp_path / "server.py").write_text("raise SystemExit('the wrong server module was imported')\n")
    return tmp_path


def runs_from_anywhere(command: list[str], folder: Path) -> None:
    """The entry's command really starts this program from an unrelated folder, without PATH."""
    done = subprocess.run(
        [*command, "--version"], cwd=folder, env={"HOME": str(folder)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("feishu-calendar-mcp "), done.stderr


@pytest.mark.parametrize(("client", "key"), [("claude-desktop", "mcpServers"), ("cursor", "mcpServers")])
def test_json_clients_get_the_absolute_command(client: str, key: str, stray_folder: Path) -> None:
    done = install(client, cwd=stray_folder, env={"FEISHU_TIMEZONE": "Asia/Shanghai"})
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)[key]["feishu-calendar"]
    assert entry == {
        "command": str(SCRIPT),
        "args": ["serve"],
        "env": {
            "FEISHU_APP_ID": "cli_your_app_id",
            "FEISHU_APP_SECRET": "your_app_secret",
            "FEISHU_TIMEZONE": "Asia/Shanghai",
        },
    }
    assert Path(entry["command"]).is_absolute()
    runs_from_anywhere([entry["command"]], stray_folder)


def test_vscode_gets_its_own_shape(stray_folder: Path) -> None:
    done = install("vscode", "--sandbox", cwd=stray_folder)
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    assert list(config) == ["servers"]
    assert config["servers"]["feishu-calendar-sandbox"] == {
        "type": "stdio",
        "command": str(SCRIPT),
        "args": ["serve", "--sandbox"],
    }


def test_claude_code_gets_a_claude_mcp_add_line(stray_folder: Path) -> None:
    env = {"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "s3cret-value", "FEISHU_USER_ACCESS_TOKEN": "u-tok"}
    done = install("claude-code", cwd=stray_folder, env=env)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line == (
        "claude mcp add --scope user feishu-calendar -e FEISHU_APP_ID=cli_abc "
        f'-e FEISHU_APP_SECRET="$FEISHU_APP_SECRET" -- {SCRIPT} serve'
    )
    words = shlex.split(line)
    assert words[words.index("--") + 1 :] == [str(SCRIPT), "serve"]
    runs_from_anywhere(words[words.index("--") + 1 : -1], stray_folder)
    assert install("claude-code", "--write", cwd=stray_folder).returncode == 2  # it has no file of ours to write


def test_secrets_are_never_printed(stray_folder: Path) -> None:
    env = {"FEISHU_APP_SECRET": "s3cret-value", "FEISHU_USER_ACCESS_TOKEN": "u-tok3n"}
    for client in ("claude-desktop", "cursor", "vscode", "claude-code"):
        done = install(client, cwd=stray_folder, env=env)
        assert "s3cret-value" not in done.stdout + done.stderr
        assert "u-tok3n" not in done.stdout + done.stderr  # a short-lived token is not carried at all


def test_write_merges_keeping_everything_else_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "Library" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    before: dict[str, Any] = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]}},
    }
    path.write_text(json.dumps(before))
    env = {"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "s3cret-value"}
    done = install("claude-desktop", "--write", "--config", str(path), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "added 'feishu-calendar'" in done.stderr and "s3cret-value" not in done.stderr + done.stdout
    after = json.loads(path.read_text())
    assert after["globalShortcut"] == "Ctrl+Space"
    assert after["mcpServers"]["filesystem"] == before["mcpServers"]["filesystem"]
    ours = after["mcpServers"]["feishu-calendar"]
    assert ours["command"] == str(SCRIPT) and ours["args"] == ["serve"]
    assert ours["env"] == {"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "s3cret-value"}  # the file gets it
    assert json.loads(path.with_name(path.name + ".bak").read_text()) == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it now holds the app secret
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".bak"]  # no temp files

    again = install("claude-desktop", "--write", "--config", str(path), "--sandbox", cwd=tmp_path)
    assert again.returncode == 0 and "added 'feishu-calendar-sandbox'" in again.stderr
    third = install("claude-desktop", "--write", "--config", str(path), cwd=tmp_path, env=env)
    assert "replaced 'feishu-calendar'" in third.stderr
    assert set(json.loads(path.read_text())["mcpServers"]) == {
        "filesystem",
        "feishu-calendar",
        "feishu-calendar-sandbox",
    }


def test_write_creates_vscodes_user_config(tmp_path: Path) -> None:
    done = install("vscode", "--write", "--sandbox", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert done.returncode == 0, done.stderr
    path = tmp_path / "xdg" / "Code" / "User" / "mcp.json"
    assert json.loads(path.read_text())["servers"]["feishu-calendar-sandbox"]["type"] == "stdio"
    assert not path.with_name("mcp.json.bak").exists()  # nothing to back up


@pytest.mark.parametrize(
    "content",
    ['{\n  // my servers\n  "servers": {}\n}', "[1, 2]", '{"mcpServers": ["not", "an", "object"]}'],
)
def test_a_config_it_cannot_merge_is_left_alone(tmp_path: Path, content: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content)
    done = install("cursor", "--write", "--config", str(path), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith(f"error: {path}")
    assert done.stderr.count("\n") == 1
    assert path.read_text() == content and not (tmp_path / "mcp.json.bak").exists()


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("darwin", {"HOME": "/Users/li"}, "/Users/li/Library/Application Support/Claude/claude_desktop_config.json"),
        ("win32", {"HOME": "C:/Users/li", "APPDATA": "C:/Users/li/AppData/Roaming"}, None),
        ("linux", {"HOME": "/home/li"}, "/home/li/.config/Claude/claude_desktop_config.json"),
    ],
)
def test_claude_desktops_config_per_os(platform: str, environ: dict[str, str], expected: str | None) -> None:
    path = config_path("claude-desktop", environ, platform)
    if expected is None:
        assert path == Path("C:/Users/li/AppData/Roaming") / "Claude" / "claude_desktop_config.json"
    else:
        assert path == Path(expected)


def test_cursor_and_vscode_configs_per_os() -> None:
    assert config_path("cursor", {"HOME": "/home/li"}, "linux") == Path("/home/li/.cursor/mcp.json")
    assert config_path("cursor", {"USERPROFILE": "C:/Users/li"}, "win32") == Path("C:/Users/li/.cursor/mcp.json")
    mac = config_path("vscode", {"HOME": "/Users/li"}, "darwin")
    assert mac == Path("/Users/li/Library/Application Support/Code/User/mcp.json")
    win = config_path("vscode", {"HOME": "C:/Users/li", "APPDATA": "C:/AppData"}, "win32")
    assert win == Path("C:/AppData/Code/User/mcp.json")
    linux = config_path("vscode", {"HOME": "/home/li", "XDG_CONFIG_HOME": "/cfg"}, "linux")
    assert linux == Path("/cfg/Code/User/mcp.json")


def test_without_a_console_script_the_command_keeps_the_folder_off_the_path(tmp_path: Path, stray_folder: Path) -> None:
    fake_python = tmp_path / "bin" / "python3"
    command = server_command(str(fake_python), str(tmp_path / "server" / "__main__.py"))
    assert command == [str(fake_python), "-P", "-m", "server"]
    runs_from_anywhere([sys.executable, *command[1:]], stray_folder)


def test_the_repository_config_uses_the_install_command() -> None:
    shipped = json.loads((ROOT / "mcp.json").read_text())
    commands = {entry["command"] for entry in shipped["mcpServers"].values()}
    assert all(Path(c).is_absolute() or c.startswith("/ABSOLUTE/") for c in commands), commands


def test_the_readme_shows_what_install_prints() -> None:
    import re

    from server.install import CLIENTS, claude_code_line, entry

    readme = (ROOT / "README.md").read_text()
    command = ["/home/li/feishu-calendar-mcp/.venv/bin/feishu-calendar-mcp"]
    for heading, client in (("Claude Desktop and Cursor:", "cursor"), ("VS Code:", "vscode")):
        match = re.search(re.escape(heading) + r"\n\n```json\n(.*?)\n```", readme, re.S)
        assert match, heading
        kind = CLIENTS[client]
        printed = {kind.servers_key: {"feishu-calendar": entry(kind, command, {}, sandbox=False, reveal=False)}}
        assert json.loads(match.group(1)) == printed
    line = claude_code_line(
        "feishu-calendar", command, {"FEISHU_APP_ID": "cli_...", "FEISHU_APP_SECRET": "x"}, sandbox=False
    )
    assert line.replace(" -- ", " \\\n  -- ") in readme
