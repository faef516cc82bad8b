"""The token store: 0600 files, atomic replacement, profiles, the lock, a writer killed mid-write."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from auth.keyring_store import KeyringTokenStore
from auth.memory_store import MemoryTokenStore
from auth.record import TokenRecord
from auth.store import (
    FileTokenStore,
    StoreData,
    config_dir,
    decode,
    delete_profile,
    encode,
    load_record,
    save_record,
)
from tests.auth.fake_keyring import FakeKeyring

ROOT = Path(__file__).resolve().parents[2]
NOW = time.time()


def record(open_id: str = "ou_a", access: str = "u-access-1", refresh: str = "r-refresh-1") -> TokenRecord:
    return TokenRecord(
        app_id="cli_app",
        open_id=open_id,
        access_token=access,
        expires_at=NOW + 7200,
        refresh_token=refresh,
        refresh_expires_at=NOW + 604800,
        scope="calendar:calendar.event:read offline_access",
        name="Ada",
    )


def test_file_is_created_0600_in_a_0700_dir(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "cfg")
    save_record(store, record(), None)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.lock_path.stat().st_mode) == 0o600
    assert load_record(store, None) == record()


def test_round_trip_profiles_and_default(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    first = record("ou_a", "u-a")
    assert save_record(store, first, None) == "default"
    assert save_record(store, record("ou_b", "u-b"), "work") == "work"
    data = store.read()
    assert data.default == "default"
    assert data.profiles == {"default": "cli_app/ou_a", "work": "cli_app/ou_b"}
    assert load_record(store, None) == first
    work = load_record(store, "work")
    assert work is not None and work.access_token == "u-b"
    removed = delete_profile(store, None)
    assert removed == first
    assert store.read().default == "work", "the remaining profile becomes the default"
    assert delete_profile(store, "nope") is None


def test_app_secret_and_unknown_fields_never_written(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, record(), None)
    raw = json.loads(store.path.read_text())
    assert set(raw) == {"version", "default", "profiles", "accounts"}
    assert "secret" not in store.path.read_text()


def test_record_repr_hides_tokens() -> None:
    text = repr(record(access="u-SECRET-A", refresh="r-SECRET-R"))
    assert "SECRET" not in text and "ou_a" in text


def test_memory_store_behaves_like_the_file_store() -> None:
    store = MemoryTokenStore()
    save_record(store, record(), "p")
    assert load_record(store, None) == record()
    assert delete_profile(store, "p") is not None
    assert load_record(store, "p") is None


def test_lock_excludes_other_writers(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    tx = store.begin()
    got_in = threading.Event()

    def second_writer() -> None:
        save_record(FileTokenStore(tmp_path), record("ou_late"), "late")
        got_in.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not got_in.wait(0.3), "a second writer must wait for the lock"
    tx.close()
    assert got_in.wait(5)
    thread.join()
    assert load_record(store, "late") is not None


def test_config_dir_rules(tmp_path: Path) -> None:
    assert config_dir({"FEISHU_CONFIG_DIR": str(tmp_path)}) == tmp_path
    if sys.platform.startswith("linux"):
        assert config_dir({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}) == Path("/x/feishu-calendar-mcp")
        assert config_dir({"HOME": "/h"}) == Path("/h/.config/feishu-calendar-mcp")
    assert config_dir({}, tmp_path / "o") == tmp_path / "o"


WRITER = """
import sys, time
from auth.record import TokenRecord
from auth.store import FileTokenStore, save_record
store = FileTokenStore(__import__("pathlib").Path(sys.argv[1]))
i = 0
while True:
    i += 1
    save_record(store, TokenRecord("cli_app", "ou_a", "u-" + "x" * 4000 + str(i), time.time() + 60,
                                   "r-" + str(i)), None)
    print(i, flush=True)
"""


def test_writer_killed_mid_write_leaves_a_readable_store(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, record(), None)
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        for _ in range(3):  # let it complete a few writes, then kill it at a random point
            proc.stdout.readline()
        time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        survivor = load_record(store, None)
        assert survivor is not None and survivor.open_id == "ou_a"
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    # The next writer sweeps temp files a killed writer left behind.
    save_record(store, record(), None)
    assert not list(tmp_path.glob(".tokens.json.*.tmp"))


def test_keyring_store_keeps_tokens_out_of_the_file(tmp_path: Path) -> None:
    ring = FakeKeyring()
    store = KeyringTokenStore(tmp_path, ring)
    save_record(store, record(access="u-KEYRING-A", refresh="r-KEYRING-R"), None)
    assert "KEYRING" not in store.path.read_text()
    assert any("u-KEYRING-A" in v for v in ring.entries.values())
    assert load_record(store, None) == record(access="u-KEYRING-A", refresh="r-KEYRING-R")
    delete_profile(store, None)
    assert ring.entries == {} and load_record(store, None) is None
    assert "keyring" in store.description.lower()


def test_signing_a_profile_in_as_someone_else_drops_the_old_tokens(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, record("ou_a", "u-a"), "p")
    save_record(store, record("ou_a", "u-a"), "also")
    save_record(store, record("ou_b", "u-b"), "p")
    assert set(store.read().accounts) == {"cli_app/ou_a", "cli_app/ou_b"}, "ou_a is still named by 'also'"
    save_record(store, record("ou_c", "u-c"), "also")
    assert set(store.read().accounts) == {"cli_app/ou_b", "cli_app/ou_c"}


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", None]), st.sampled_from(["ou_1", "ou_2", "ou_3"])),
        max_size=25,
    )
)
def test_profiles_and_accounts_stay_consistent(steps: list[tuple[bool, str | None, str]]) -> None:
    data = StoreData()
    for is_login, profile, open_id in steps:
        if is_login:
            data.put(record(open_id), profile)
        else:
            data.remove(profile)
        assert set(data.accounts) == set(data.profiles.values()), "no orphaned tokens, no dangling profile"
        assert data.default in data.profiles if data.profiles else data.default == ""
        assert decode(encode(data)) == data
