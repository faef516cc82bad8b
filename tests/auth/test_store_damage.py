"""A damaged token store: every kind of damage is one line naming `login`/`logout`, and both repair it.

Through the store API, the `status`/`login`/`logout` commands (in process, and one real process for
"no traceback, nothing on stdout") and a tool call through the MCP client.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client

from auth.errors import StoreDamaged
from auth.record import TokenRecord
from auth.store import Damage, FileTokenStore, delete_profile, load_record, save_record
from sandbox.seed import DEMO_USER_OPEN_ID
from server import cli
from server.app import build_server
from server.tokens import token_source
from tests.auth.conftest import Live
from tests.auth.fake_accounts import APP_ID, OPEN_ID
from tests.auth.test_server_tokens import BASE, settings_for

ROOT = Path(__file__).resolve().parents[2]
LOGIN = f"feishu-calendar-mcp login --domain {BASE}"
NOW = time.time()


def good(open_id: str = OPEN_ID, access: str = "u-GOOD-ACCESS") -> TokenRecord:
    return TokenRecord(APP_ID, open_id, access, NOW + 3600, "r-GOOD-REFRESH", name="Ada")


def _truncated(store: FileTokenStore) -> None:
    save_record(store, good(), None)
    text = store.path.read_bytes()
    store.path.write_bytes(text[: len(text) // 2])


def _account(entry: object) -> Callable[[FileTokenStore], object]:
    def write(store: FileTokenStore) -> None:
        raw = {"version": 1, "default": "default", "profiles": {"default": "k"}, "accounts": {"k": entry}}
        store.path.write_text(json.dumps(raw))

    return write


RECORD = good().to_json()
# kind -> (how to damage a store, words the one-line message must contain)
WHOLE: dict[str, tuple[Callable[[FileTokenStore], object], str]] = {
    "empty": (lambda s: s.path.write_bytes(b""), "is empty"),
    "truncated": (_truncated, "is not valid JSON"),
    "binary": (lambda s: s.path.write_bytes(b"\xff\xfe\x00\x81garbage\x80\xc3"), "is not text"),
    "wrong shape": (lambda s: s.path.write_text("[1, 2, 3]"), "holds a list, not a token store"),
    "no version": (lambda s: s.path.write_text('{"profiles": {}}'), "has no valid format version"),
    "newer version": (lambda s: s.path.write_text('{"version": 7}'), "written by a newer feishu-calendar-mcp"),
    "profiles of the wrong type": (
        lambda s: s.path.write_text('{"version": 1, "profiles": {"default": 3}}'),
        "profiles table of the wrong shape",
    ),
    "folder": (lambda s: s.path.mkdir(), "is a folder, not a file"),
    "pipe": (lambda s: os.mkfifo(s.path), "is not a regular file (a pipe or a device?)"),
    "huge": (lambda s: s.path.write_bytes(b" " * (2 << 20)), "is too large to be a token store"),
}
PROFILE: dict[str, tuple[Callable[[FileTokenStore], object], str]] = {
    "expiry as text": (_account({**RECORD, "expires_at": "soon"}), "expires_at is text, not a time"),
    "token as a number": (_account({**RECORD, "access_token": 12}), "access_token is a number, not text"),
    "expiry NaN": (_account({**RECORD, "expires_at": float("nan")}), "expires_at is not a finite number"),
    "missing open_id": (_account({k: v for k, v in RECORD.items() if k != "open_id"}), "open_id is missing"),
    "account not an object": (_account("u-x"), "it is text, not an object"),
}
KINDS = {**WHOLE, **PROFILE}


def damaged_store(tmp_path: Path, kind: str) -> FileTokenStore:
    store = FileTokenStore(tmp_path)
    tmp_path.mkdir(mode=0o700, exist_ok=True)
    tmp_path.chmod(0o700)
    KINDS[kind][0](store)
    if store.path.is_file():
        store.path.chmod(0o600)
    return store


def assert_one_line_naming_the_fix(text: str, kind: str, login: str = "feishu-calendar-mcp login") -> None:
    assert "\n" not in text.strip() and "Traceback" not in text
    assert KINDS[kind][1] in text
    assert f"run `{login}` to sign in again (it replaces it) or `feishu-calendar-mcp logout` to remove it" in text
    assert "GOOD" not in text, "never a token, even from a damaged file"


@pytest.mark.parametrize("kind", KINDS)
def test_reading_says_what_is_wrong_and_what_repairs_it(tmp_path: Path, kind: str) -> None:
    store = damaged_store(tmp_path, kind)
    data = store.read()  # the damage is data until a profile is asked for
    with pytest.raises(StoreDamaged) as caught:
        load_record(store, None)
    assert str(store.path) in str(caught.value)
    assert_one_line_naming_the_fix(str(caught.value), kind)
    assert data.profiles == {} if kind in WHOLE else data.profiles == {"default": "k"}


@pytest.mark.parametrize("kind", KINDS)
def test_login_writes_over_the_damage(tmp_path: Path, kind: str) -> None:
    store = damaged_store(tmp_path, kind)
    save_record(store, good(), None)
    assert load_record(store, None) == good()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.read().damaged == {}
    aside = list(tmp_path.glob("tokens.json.damaged-*"))
    assert len(aside) == (1 if kind == "folder" else 0), "a folder is moved aside, never deleted"


@pytest.mark.parametrize("kind", KINDS)
def test_logout_removes_the_damage(tmp_path: Path, kind: str) -> None:
    store = damaged_store(tmp_path, kind)
    removed = delete_profile(store, None)
    assert isinstance(removed, Damage) and removed.whole_store == (kind in WHOLE)
    assert KINDS[kind][1] in removed.reason
    assert load_record(store, None) is None
    assert delete_profile(store, None) is None, "nothing left to remove"


def test_a_damaged_profile_leaves_the_others_usable(tmp_path: Path) -> None:
    store = damaged_store(tmp_path, "expiry as text")
    save_record(store, good("ou_work", "u-work"), "work")
    work = load_record(store, "work")
    assert work is not None and work.access_token == "u-work"
    with pytest.raises(StoreDamaged, match="profile default"):
        load_record(store, None)
    save_record(store, good("ou_team", "u-team"), "team")  # other writes keep the damaged entry as it was
    assert json.loads(store.path.read_text())["accounts"]["k"]["expires_at"] == "soon"
    assert isinstance(delete_profile(store, "default"), Damage)
    assert set(store.read().profiles) == {"work", "team"}


# ---- the commands ------------------------------------------------------------------------------


def use_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": "unused-secret-0123456789",
        "FEISHU_DOMAIN": BASE,
        "FEISHU_CONFIG_DIR": str(tmp_path),
        "FEISHU_TIMEZONE": "Asia/Shanghai",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FEISHU_USER_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("FEISHU_PROFILE", raising=False)


@pytest.mark.parametrize("kind", KINDS)
def test_status_then_logout_then_status(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged_store(tmp_path, kind)
    use_store(monkeypatch, tmp_path)
    assert cli.main(["status"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: the ")
    assert_one_line_naming_the_fix(err, kind, LOGIN)

    assert cli.main(["logout"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and KINDS[kind][1] in err
    assert ("Removed the token store, which" if kind in WHOLE else "Removed the damaged sign-in of") in err

    assert cli.main(["status"]) == 1
    assert "not signed in" in capsys.readouterr().err


@pytest.mark.parametrize("kind", KINDS)
def test_cli_login_repairs_the_store(
    live: Live, kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = damaged_store(live.config_dir, kind)
    for name, value in live.environ().items():
        monkeypatch.setenv(name, value)
    open_browser, pages_seen = live.browser_in_background()
    monkeypatch.setattr(webbrowser, "open", open_browser)
    assert cli.main(["login", "--timeout", "20"]) == 0
    pages_seen()
    err = capsys.readouterr().err
    assert "Signed in as" in err and "Traceback" not in err
    stored = load_record(store, None)
    assert stored is not None and stored.open_id == DEMO_USER_OPEN_ID
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert cli.main(["status"]) == 0
    assert "confirmed by Feishu" in capsys.readouterr().err


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    store = damaged_store(tmp_path, "truncated")
    tmp_path.chmod(0o755)
    store.path.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")}
    env.update(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET="unused-secret-0123456789", FEISHU_CONFIG_DIR=str(tmp_path))
    run = [sys.executable, "-m", "server"]
    status = subprocess.run([*run, "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 1 and status.stdout == ""
    lines = status.stderr.strip().splitlines()
    errors = [line for line in lines if " WARNING " not in line]
    assert errors == [errors[0]] and errors[0].startswith("error: the token store") and "Traceback" not in status.stderr
    assert_one_line_naming_the_fix(errors[0], "truncated")
    # The loose modes were tightened, and said so on stderr (path and modes only).
    warnings = [line for line in lines if " WARNING " in line]
    assert len(warnings) == 2 and "0755" in warnings[0] and "0644" in warnings[1]
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700 and stat.S_IMODE(store.path.stat().st_mode) == 0o600

    logout = subprocess.run([*run, "logout"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert logout.returncode == 0 and logout.stdout == "" and "Traceback" not in logout.stderr
    assert logout.stderr.strip().splitlines() == [
        f"Removed the token store, which is not valid JSON (cut off or overwritten?); file {store.path} now holds no"
        " sign-in."
    ]


# ---- a tool call -------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_a_tool_call_gets_an_actionable_error(tmp_path: Path, kind: str) -> None:
    damaged_store(tmp_path, kind)
    settings = settings_for(tmp_path)
    async with Client(build_server(settings, token_source(settings))) as client:
        result = await client.call_tool("get_event", {"event_id": "evt_1_0"})
    assert result.is_error
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert "token-store failed: " in text and "internal error" not in text
    assert KINDS[kind][1] in text and "GOOD" not in text
    assert f"What to do: run `{LOGIN}` to sign in again (it replaces it) or `feishu-calendar-mcp logout`" in text


@pytest.mark.anyio
async def test_a_tool_call_that_must_refresh_but_cannot_lock_the_store(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-EXPIRED", NOW - 60, "r-GOOD-REFRESH"), None)
    store.lock_path.unlink()
    store.lock_path.mkdir()
    settings = settings_for(tmp_path)
    async with Client(build_server(settings, token_source(settings))) as client:
        result = await client.call_tool("get_event", {"event_id": "evt_1_0"})
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert result.is_error and "internal error" not in text and "EXPIRED" not in text
    assert f"token-store failed: cannot open the token store's lock file {store.lock_path}: it is a folder" in text
    assert f"What to do: make {tmp_path} a folder you can write to, then retry" in text
