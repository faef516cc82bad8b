"""A newcomer's first run: the real command over stdio, and the demo tour, as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from server.local_key import KEY_FILE_NAME
from tests.e2e.harness import DEMO_STEPS
from tests.helpers import serve_http, stop_http

pytestmark = pytest.mark.anyio

ENV = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "TZ")}


async def test_serve_sandbox_over_stdio_offers_every_tool_and_answers() -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "serve", "--sandbox"],
        env={**ENV, "FEISHU_TIMEZONE": "Asia/Shanghai"},
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        assert len(tools) == 29  # the 23 operations, the time tool and the 5 scheduling tools
        context = await client.call_tool("get_current_context", {})
        assert not context.is_error and context.structured_content is not None
        assert context.structured_content["user"]["name"]
        today = context.structured_content["today"]["start"][:10]
        agenda = await client.call_tool("view_instances", {"start": today, "end": today})
        assert not agenda.is_error and agenda.structured_content is not None
        assert isinstance(agenda.structured_content["items"], list)


def check_demo(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for step in DEMO_STEPS:
        assert f"-> {step}(" in out, f"demo never called {step}:\n{out}"
    assert "signed in as" in out and "rooms seen: none" not in out
    assert "resource:" in out and "user:" in out  # a room was booked and a colleague invited
    assert "waiting for my answer" in out and "accepted:" in out  # an invitation was answered
    assert "rsvp=needs_action" in out and ": booked (rsvp=accept)" in out  # the room answered a moment later
    assert "Tour finished" in out
    assert "in Asia/Shanghai" in out and "T10:00:00+08:00" in out  # "tomorrow 10:00" where the user lives
    assert "SANDBOX" in done.stderr or "sandbox" in done.stderr.lower()  # never used silently


@pytest.mark.parametrize(
    ("machine_zone", "sandbox_now"),
    [
        (None, None),  # this machine, now: whatever day CI runs on
        ("America/Los_Angeles", "2026-12-13T23:50:00+08:00"),  # a Sunday night in Shanghai, Saturday on the machine
        ("UTC", "2026-12-09T00:10:00+08:00"),  # a Wednesday just after midnight
    ],
)
def test_demo_tour_runs_every_step(machine_zone: str | None, sandbox_now: str | None) -> None:
    env = dict(ENV)  # no timezone given: the demo uses its user's (Asia/Shanghai), whatever the machine's
    if machine_zone:
        env["TZ"] = machine_zone
    if sandbox_now:
        env["FEISHU_SANDBOX_NOW"] = sandbox_now  # the sandbox's test-only clock pin
    done = subprocess.run(
        [sys.executable, "-m", "server", "demo"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    check_demo(done)
    if sandbox_now:
        assert f"now {sandbox_now[:16]}" in done.stdout  # the server's "now" is the pinned sandbox clock


def test_demo_ignores_modules_in_the_current_folder(tmp_path: Path) -> None:
    """A tools.py (or server.py, sandbox.py) where the user happens to run the demo changes nothing."""
    for name in ("tools", "server", "sandbox", "auth"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('the {name}.py in the current folder was imported')\n")
    command = Path(sys.executable).parent / "feishu-calendar-mcp"  # as the README runs it
    done = subprocess.run(
        [str(command), "demo"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )
    check_demo(done)


async def test_serve_sandbox_over_streamable_http_on_loopback(tmp_path: Path) -> None:
    env = {**ENV, "FEISHU_TIMEZONE": "Asia/Shanghai", "FEISHU_CONFIG_DIR": str(tmp_path)}
    server, url, _ = serve_http(env, "--sandbox")
    try:
        key = (tmp_path / KEY_FILE_NAME).read_text().strip()
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(30, read=300)) as h,
            Client(streamable_http_client(url, http_client=h)) as client,
        ):
            assert len((await client.list_tools()).tools) == 29  # every tool (the sandbox serves them all)
            rooms = await client.call_tool(
                "get_room_freebusy",
                {
                    "room_ids": ["omm_sandbox0room0everest"],
                    "start": "2026-12-02T09:00",
                    "end": "2026-12-02T10:00",
                },
            )
            assert not rooms.is_error and rooms.structured_content is not None
    finally:
        stderr = stop_http(server)
    assert "SANDBOX" in stderr  # the banner says which upstream this is
