"""A newcomer's first commands, through the real CLI: bad settings, --version, the licence."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env={**base, "FEISHU_TIMEZONE": "Asia/Shanghai", **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["serve", "--timezone", "Mars/Base"], {}, "--timezone='Mars/Base': unknown IANA zone 'Mars/Base'"),
        (["serve"], {"FEISHU_TIMEZONE": "Mars/Base"}, "FEISHU_TIMEZONE='Mars/Base': unknown IANA zone"),
        (["serve", "--toolsets", "events,nope"], {}, "--toolsets='events,nope': unknown toolsets ['nope']"),
        (["serve", "--sandbox"], {"FEISHU_TOOLSETS": "calendar"}, "FEISHU_TOOLSETS='calendar': unknown toolsets"),
        (["status"], {"FEISHU_LOG_LEVEL": "chatty"}, "FEISHU_LOG_LEVEL='chatty': input should be 'DEBUG'"),
        (["serve", "--log-level", "loud"], {}, "--log-level='loud': input should be"),
        (["serve"], {"FEISHU_MAX_ATTEMPTS": "abc"}, "FEISHU_MAX_ATTEMPTS='abc': input should be a valid integer"),
        (["login"], {"FEISHU_LOGIN_PORT": "80"}, "FEISHU_LOGIN_PORT='80': input should be greater than or equal"),
        (["login", "--port", "80"], {}, "--port=80: input should be greater than or equal to 1024"),
        (["serve", "--sandbox"], {"FEISHU_CONFIRM_DESTRUCTIVE": "maybe"}, "FEISHU_CONFIRM_DESTRUCTIVE='maybe'"),
        (["status"], {"FEISHU_TOKEN_STORE": "vault"}, "FEISHU_TOKEN_STORE='vault': input should be 'file'"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(args: list[str], env: dict[str, str], expected: str) -> None:
    done = cli(*args, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert done.stderr.startswith(f"feishu-calendar-mcp: error: {expected}"), done.stderr


def test_two_bad_settings_are_both_named_on_one_line() -> None:
    done = cli("serve", env={"FEISHU_TIMEZONE": "X/Y", "FEISHU_READ_TIMEOUT": "-1"})
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "FEISHU_TIMEZONE='X/Y'" in done.stderr and "FEISHU_READ_TIMEOUT='-1'" in done.stderr


def test_version_is_the_installed_package_version() -> None:
    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout == f"feishu-calendar-mcp {version('feishu-calendar-mcp')}\n"


def test_the_licence_is_the_mit_licence_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 feishu-calendar-mcp contributors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
