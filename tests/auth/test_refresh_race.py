"""THE RACE: eight real OS processes share one token store and call a tool just as the token expires.

Feishu refresh tokens work once; a second refresh with the same one logs the user out (20073).
The sandbox (served on loopback) must see exactly one refresh, every call must succeed, and the
store must end with the newest refresh token. Also: expiry mid-session is refreshed transparently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from auth.login import PendingLogin
from auth.store import FileTokenStore, load_record, save_record
from server.tokens import login_request
from tests.auth.conftest import Live
from tests.auth.test_oauth_sandbox import WINDOW, call_tool

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("race_child.py")
PROCESSES = 8


async def sign_in(live: Live) -> FileTokenStore:
    store = FileTokenStore(live.config_dir)
    pending = PendingLogin(login_request(live.settings(), live.port))
    await pending.finish(live.sb.consent(pending.url), store, None)
    return store


def live_refresh_token(live: Live) -> str:
    """The one refresh token the sandbox would still accept."""
    usable = [t.token for t in live.sb.world.refresh_tokens.values() if not t.used and not t.revoked]
    assert len(usable) == 1, usable
    return usable[0]


async def test_expiry_mid_session_refreshes_transparently(live: Live) -> None:
    store = await sign_in(live)
    first = load_record(store, None)
    assert first is not None
    settings = live.settings()
    error, text = await call_tool(settings, "view_instances", WINDOW)
    assert not error, text
    live.sb.expire_access_tokens()
    error, text = await call_tool(settings, "view_instances", WINDOW)
    assert not error, text
    assert live.sb.stats.token_grants["refresh_token"] == 1
    now = load_record(store, None)
    assert now is not None and now.refresh_token != first.refresh_token
    assert now.refresh_token == live_refresh_token(live)


@pytest.mark.parametrize("who_notices", ["feishu", "client"])
async def test_eight_processes_one_refresh(live: Live, tmp_path: Path, who_notices: str) -> None:
    store = await sign_in(live)
    before = load_record(store, None)
    assert before is not None
    go = tmp_path / "go"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")},
        **live.environ(),
        "PYTHONPATH": str(ROOT),
    }
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(go), "view_instances", json.dumps(WINDOW)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        # The access token expires now: Feishu refuses it ("feishu"), or the store says so ("client").
        live.sb.expire_access_tokens()
        if who_notices == "client":
            save_record(store, replace(before, expires_at=time.time() - 1), None)
        go.touch()
        outcomes = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outcomes]
    assert [r["is_error"] for r in results] == [False] * PROCESSES, [r["text"][:300] for r in results]
    assert all(child.returncode == 0 for child in children)
    assert live.sb.stats.token_grants["refresh_token"] == 1
    after = load_record(store, None)
    assert after is not None and after.refresh_token == live_refresh_token(live) != before.refresh_token
    used_twice = [e for e in live.sb.log.matching("POST", "/oauth/v3/token") if e.code == 20073]
    assert used_twice == []
