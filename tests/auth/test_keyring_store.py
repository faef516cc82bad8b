"""The keyring store's format and failures: whole records in the keyring, an index without tokens,
damaged entries repaired by login, the ``keyring`` module's errors as one line, older entries read."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from auth.errors import StoreDamaged, StoreError
from auth.keyring_store import SERVICE, KeyringTokenStore, SystemKeyring
from auth.record import TokenRecord
from auth.store import FileTokenStore, delete_profile, load_record, save_record
from tests.auth.fake_accounts import APP_ID, OPEN_ID
from tests.auth.fake_keyring import FakeKeyring

KEY = (SERVICE, f"{APP_ID}/{OPEN_ID}")


def test_the_index_file_holds_no_token_and_the_keyring_the_whole_record(tmp_path: Path) -> None:
    ring = FakeKeyring()
    store = KeyringTokenStore(tmp_path, ring)
    record = TokenRecord(APP_ID, OPEN_ID, "u-KEYRING", 123.0, "r-KEYRING", name="Ada")
    save_record(store, record, None)
    assert "KEYRING" not in store.path.read_text()
    assert TokenRecord.from_json(json.loads(ring.entries[(SERVICE, f"{APP_ID}/{OPEN_ID}")])) == record
    assert store.lock_path == FileTokenStore(tmp_path).lock_path, "the same cross-process lock as the file store"


@pytest.mark.parametrize("broken", [None, "not json", "[1]"])
def test_a_missing_or_broken_keyring_entry_is_damage_login_repairs(tmp_path: Path, broken: str | None) -> None:
    ring = FakeKeyring()
    store = KeyringTokenStore(tmp_path, ring)
    save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-1", 1.0, "r-1"), None)
    key = (SERVICE, f"{APP_ID}/{OPEN_ID}")
    if broken is None:
        del ring.entries[key]
    else:
        ring.entries[key] = broken
    with pytest.raises(StoreDamaged, match=r"(missing from the OS keyring|keyring entry is not a token record)"):
        load_record(store, None)
    assert "u-1" not in store.path.read_text()
    save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-2", 2.0, "r-2"), None)
    repaired = load_record(store, None)
    assert repaired is not None and repaired.access_token == "u-2"


def test_entries_written_before_this_format_are_still_read(tmp_path: Path) -> None:
    # Before: expiry and names in the file, only the two tokens in the keyring.
    ring = FakeKeyring()
    ring.entries[KEY] = json.dumps({"access_token": "u-old", "refresh_token": "r-old"})
    record = TokenRecord(APP_ID, OPEN_ID, "", 55.0, "", name="Ada").to_json()
    index = {"version": 1, "default": "default", "profiles": {"default": KEY[1]}, "accounts": {KEY[1]: record}}
    (tmp_path / "tokens.json").write_text(json.dumps(index))
    stored = load_record(KeyringTokenStore(tmp_path, ring), None)
    assert stored == TokenRecord(APP_ID, OPEN_ID, "u-old", 55.0, "r-old", name="Ada")


class KeyringError(Exception):
    pass


class PasswordDeleteError(KeyringError):
    pass


class KeyringLocked(KeyringError):
    pass


class LockedModule:
    """The ``keyring`` module's shape (as of keyring 25), with a keyring that refuses every call."""

    errors = SimpleNamespace(KeyringError=KeyringError, PasswordDeleteError=PasswordDeleteError)

    def get_password(self, service_name: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service_name: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service_name: str, username: str) -> None:
        raise PasswordDeleteError("no such password")


def test_a_locked_keyring_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    store = KeyringTokenStore(tmp_path, SystemKeyring(LockedModule()))
    with pytest.raises(StoreError) as caught:
        save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-1", 1.0, "r-1"), None)
    assert str(caught.value) == (
        "the OS keyring cannot be used (KeyringLocked); unlock or set up the keyring, "
        "or use the file store (unset FEISHU_TOKEN_STORE)"
    )
    assert not store.path.exists(), "the index names no entry that was not written"


def test_deleting_an_entry_that_is_gone_is_not_an_error(tmp_path: Path) -> None:
    SystemKeyring(LockedModule()).delete_password(SERVICE, "nobody")  # PasswordDeleteError: already gone
    ring = FakeKeyring()
    store = KeyringTokenStore(tmp_path, ring)
    save_record(store, TokenRecord(APP_ID, OPEN_ID, "u-1", 1.0, "r-1"), None)
    ring.entries.clear()
    assert delete_profile(store, None) is not None and load_record(store, None) is None
