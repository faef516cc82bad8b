"""Where tokens live between runs: a small interface, a locked atomic JSON file, and a memory store.

The file (``tokens.json`` in the config dir, mode 0600) maps named profiles to accounts, and
accounts, keyed by app id and the user's open_id, to their tokens. Every change happens under an
exclusive lock on a sibling lock file (fcntl), re-reads the file, and replaces it atomically
(temp file + fsync + os.replace), so a process killed mid-write leaves the old or the new file,
never a torn one. The app secret is never written here.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from auth.errors import AuthError
from auth.record import TokenRecord

APP_DIR_NAME = "feishu-calendar-mcp"
DEFAULT_PROFILE = "default"
FORMAT_VERSION = 1


def config_dir(environ: Mapping[str, str], override: Path | None = None) -> Path:
    """The platform's per-user config dir for this program (FEISHU_CONFIG_DIR wins)."""
    if override is not None:
        return override
    if environ.get("FEISHU_CONFIG_DIR"):
        return Path(environ["FEISHU_CONFIG_DIR"])
    home = Path(environ.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_DIR_NAME
    if sys.platform == "win32":
        return Path(environ.get("APPDATA") or home / "AppData" / "Roaming") / APP_DIR_NAME
    return Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / APP_DIR_NAME


def account_key(app_id: str, open_id: str) -> str:
    return f"{app_id}/{open_id}"


@dataclass
class StoreData:
    """The decoded store: profiles -> account key, account key -> token record."""

    default: str = ""
    profiles: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, TokenRecord] = field(default_factory=dict)

    def profile_name(self, profile: str | None) -> str:
        return profile or self.default or DEFAULT_PROFILE

    def record(self, profile: str | None) -> TokenRecord | None:
        key = self.profiles.get(self.profile_name(profile))
        return self.accounts.get(key) if key else None

    def put(self, record: TokenRecord, profile: str | None) -> str:
        name = self.profile_name(profile)
        key = account_key(record.app_id, record.open_id)
        previous = self.profiles.get(name)
        self.profiles[name] = key
        self.accounts[key] = record
        if previous and previous != key and previous not in self.profiles.values():
            # The profile now signs in as someone else: the old account's tokens have no name left.
            del self.accounts[previous]
        if not self.default or self.default not in self.profiles:
            self.default = name
        return name

    def remove(self, profile: str | None) -> TokenRecord | None:
        name = self.profile_name(profile)
        key = self.profiles.pop(name, None)
        if key is None:
            return None
        record = self.accounts.get(key)
        if key not in self.profiles.values():
            self.accounts.pop(key, None)
        if self.default == name:
            self.default = min(self.profiles, default="")
        return record


class StoreTransaction(Protocol):
    """An exclusive section: no other process or thread changes the store until it closes."""

    def read(self) -> StoreData: ...

    def write(self, data: StoreData) -> None: ...

    def close(self) -> None: ...


class TokenStore(Protocol):
    """What the auth code needs from a token store."""

    @property
    def description(self) -> str: ...

    def read(self) -> StoreData: ...

    def begin(self) -> StoreTransaction: ...


def load_record(store: TokenStore, profile: str | None) -> TokenRecord | None:
    return store.read().record(profile)


def save_record(store: TokenStore, record: TokenRecord, profile: str | None) -> str:
    """Store ``record`` under ``profile`` (default profile if None); returns the profile name."""
    tx = store.begin()
    try:
        data = tx.read()
        name = data.put(record, profile)
        tx.write(data)
        return name
    finally:
        tx.close()


def delete_profile(store: TokenStore, profile: str | None) -> TokenRecord | None:
    """Forget the profile's tokens; returns what was removed (None if nothing was stored)."""
    tx = store.begin()
    try:
        data = tx.read()
        removed = data.remove(profile)
        if removed is not None:
            tx.write(data)
        return removed
    finally:
        tx.close()


def encode(data: StoreData) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "default": data.default,
        "profiles": dict(sorted(data.profiles.items())),
        "accounts": {key: rec.to_json() for key, rec in sorted(data.accounts.items())},
    }


def decode(raw: dict[str, Any]) -> StoreData:
    if raw.get("version") != FORMAT_VERSION:
        raise AuthError(f"the token store has format version {raw.get('version')!r}; this program reads 1")
    return StoreData(
        default=str(raw.get("default") or ""),
        profiles={str(k): str(v) for k, v in (raw.get("profiles") or {}).items()},
        accounts={str(k): TokenRecord.from_json(v) for k, v in (raw.get("accounts") or {}).items()},
    )


class MemoryTokenStore:
    """A process-local store (tests, or an embedding application that keeps tokens itself)."""

    description = "memory (not persisted)"

    def __init__(self) -> None:
        self._data = StoreData()
        self._lock = threading.Lock()

    def read(self) -> StoreData:
        return decode(json.loads(json.dumps(encode(self._data))))

    def begin(self) -> StoreTransaction:
        self._lock.acquire()
        return _MemoryTransaction(self)


class _MemoryTransaction:
    def __init__(self, store: MemoryTokenStore) -> None:
        self._store = store
        self._open = True

    def read(self) -> StoreData:
        return self._store.read()

    def write(self, data: StoreData) -> None:
        self._store._data = decode(encode(data))

    def close(self) -> None:
        if self._open:
            self._open = False
            self._store._lock.release()


class FileTokenStore:
    """tokens.json in ``directory`` (created 0700), the file 0600, changes under an fcntl lock."""

    FILE_NAME = "tokens.json"
    LOCK_NAME = "tokens.lock"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / self.FILE_NAME
        self.lock_path = directory / self.LOCK_NAME

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def read(self) -> StoreData:
        """A consistent snapshot without the lock: writers only ever swap in complete files."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return StoreData()
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise AuthError(
                f"the token store {self.path} is not valid JSON; delete it and run `feishu-calendar-mcp login`"
            ) from exc
        return self.decode_file(raw)

    def decode_file(self, raw: dict[str, Any]) -> StoreData:
        return decode(raw)

    def encode_file(self, data: StoreData) -> dict[str, Any]:
        return encode(data)

    def begin(self) -> StoreTransaction:
        """Block until this process holds the store's lock (call from a worker thread in async code)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return _FileTransaction(self, fd)

    def write_locked(self, data: StoreData) -> None:
        """Replace the file atomically; the caller holds the lock."""
        payload = json.dumps(self.encode_file(data), indent=1, sort_keys=True).encode()
        for leftover in self.directory.glob(f".{self.FILE_NAME}.*.tmp"):
            # Only lock holders write temp files, so any found now was left by a killed writer.
            leftover.unlink(missing_ok=True)
        temp = self.directory / f".{self.FILE_NAME}.{secrets.token_hex(6)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)


class _FileTransaction:
    def __init__(self, store: FileTokenStore, fd: int) -> None:
        self._store = store
        self._fd: int | None = fd

    def read(self) -> StoreData:
        return self._store.read()

    def write(self, data: StoreData) -> None:
        if self._fd is None:
            raise RuntimeError("the store transaction is closed")
        self._store.write_locked(data)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse to fsync a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
