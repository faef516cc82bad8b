"""The store's files on disk: modes tightened whenever opened, and every OS failure one actionable line.

CI runs as root, where permissions never refuse: a refused read is made with a patched ``os.open``
and a full disk with a patched writer; a lock file that cannot be created is made for real.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from auth.errors import StoreDamaged, StoreError
from auth.record import TokenRecord
from auth.store import FileTokenStore, load_record, save_record
from tests.auth.fake_accounts import APP_ID, OPEN_ID, FakeAccounts
from tests.auth.test_refresh_unit import tokens_for

NOW = time.time()


def good(access: str = "u-SECRET-ACCESS") -> TokenRecord:
    return TokenRecord(APP_ID, OPEN_ID, access, NOW + 3600, "r-SECRET-REFRESH")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose_store(tmp_path: Path) -> FileTokenStore:
    store = FileTokenStore(tmp_path / "cfg")
    save_record(store, good(), None)
    store.directory.chmod(0o755)
    store.path.chmod(0o644)
    store.lock_path.chmod(0o666)
    return store


def test_reading_tightens_folder_and_file_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = loose_store(tmp_path)
    with caplog.at_level(logging.WARNING, "feishu_calendar_mcp.auth"):
        assert load_record(store, None) == good()
    assert mode(store.directory) == 0o700 and mode(store.path) == 0o600
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert said == [
        f"{store.directory} was open to other users (mode 0755); restricted it to 0700",
        f"{store.path} was open to other users (mode 0644); restricted it to 0600",
    ]
    assert "SECRET" not in caplog.text
    caplog.clear()
    load_record(store, None)
    assert caplog.records == [], "said once: the modes stay tight"


def test_opening_for_a_change_tightens_the_lock_file_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = loose_store(tmp_path)
    with caplog.at_level(logging.WARNING, "feishu_calendar_mcp.auth"):
        store.begin().close()
    assert mode(store.directory) == 0o700 and mode(store.lock_path) == 0o600
    assert any(str(store.lock_path) in r.getMessage() and "0666" in r.getMessage() for r in caplog.records)


def test_only_the_extra_bits_are_cleared(tmp_path: Path) -> None:
    store = loose_store(tmp_path)
    store.path.chmod(0o444)  # read-only for everyone: the owner keeps read, without write
    store.read()
    assert mode(store.path) == 0o400


def test_a_new_store_is_private_from_the_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FileTokenStore(tmp_path / "new" / "cfg")
    with caplog.at_level(logging.WARNING):
        save_record(store, good(), None)
    assert mode(store.directory) == 0o700 and mode(store.path) == 0o600 and mode(store.lock_path) == 0o600
    assert caplog.records == []


def refuse(monkeypatch: pytest.MonkeyPatch, call: str, refused: Path) -> None:
    """os.<call> answers EACCES for ``refused``, as it would for another user's path (not as root)."""
    real = getattr(os, call)

    def refusing(path: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(path) == refused:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, call, refusing)


def test_a_refused_read_names_the_cause_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, good(), None)
    refuse(monkeypatch, "open", store.path)
    with pytest.raises(StoreDamaged) as caught:
        load_record(store, None)
    assert str(caught.value) == (
        f"the token store {store.path} cannot be read: permission denied (is it owned by another user?); "
        "run `feishu-calendar-mcp login` to sign in again (it replaces it) or `feishu-calendar-mcp logout` to remove it"
    )


def test_a_lock_file_that_cannot_be_created(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path)
    store.lock_path.mkdir()
    with pytest.raises(StoreError) as caught:
        save_record(store, good(), None)
    assert str(caught.value) == (
        f"cannot open the token store's lock file {store.lock_path}: it is a folder, not a file; "
        f"make {tmp_path} a folder you can write to"
    )


def test_a_config_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").write_text("")
    store = FileTokenStore(tmp_path / "cfg")
    said = f"the token store's folder {store.directory} is a file; move that file away, or set FEISHU_CONFIG_DIR"
    with pytest.raises(StoreError, match=said):
        load_record(store, None)
    with pytest.raises(StoreError, match=said):
        save_record(store, good(), None)


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(path: Path, payload: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("auth.store.write_private", no_space)


def test_a_full_disk_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileTokenStore(tmp_path)
    save_record(store, good("u-old"), None)
    full_disk(monkeypatch)
    with pytest.raises(StoreError) as caught:
        save_record(store, good("u-new"), None)
    assert str(caught.value) == (
        f"could not save the token store {store.path}: no space left on the disk; fix that (nothing was changed)"
    )
    stored = load_record(store, None)
    assert stored is not None and stored.access_token == "u-old"


@pytest.mark.anyio
async def test_a_refresh_that_cannot_be_saved_says_to_sign_in_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store = FakeAccounts(), FileTokenStore(tmp_path)
    answer = fake._issue("calendar:calendar.event:read offline_access").json()
    save_record(store, TokenRecord.from_token_response(APP_ID, OPEN_ID, answer, now=fake.now - 7200), "p")
    tokens = tokens_for(fake, store)
    full_disk(monkeypatch)
    with pytest.raises(StoreError) as caught:
        await tokens.access_token()
    assert fake.token_grants == {"refresh_token": 1}
    assert str(caught.value) == (
        f"the refreshed sign-in could not be saved (could not save the token store {store.path}: no space left on "
        "the disk); fix that, then run `feishu-calendar-mcp login --profile p`"
    )


def test_a_folder_that_cannot_be_reached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileTokenStore(tmp_path / "cfg")
    refuse(monkeypatch, "stat", store.directory)
    with pytest.raises(StoreError) as caught:
        load_record(store, None)
    assert str(caught.value) == (
        f"cannot reach the token store's folder {store.directory}: permission denied (is it owned by another user?); "
        "make it a folder you can read and write, or set FEISHU_CONFIG_DIR to one"
    )
