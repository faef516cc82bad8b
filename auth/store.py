"""Where tokens live between runs: a small interface, a locked atomic JSON file, and a memory store.

The file (``tokens.json`` in the config dir, mode 0600) maps named profiles to accounts, and
accounts, keyed by app id and the user's open_id, to their tokens. Every change happens under an
exclusive lock on a sibling lock file (fcntl), re-reads the file, and replaces it atomically
(temp file + fsync + os.replace), so a process killed mid-write leaves the old or the new file,
never a torn one. The app secret is never written here.

A store that cannot be read (empty, cut off, binary, the wrong shape or types, a folder, no
permission) is not an exception when read: :class:`StoreData` carries the damage, and asking it
for a damaged profile raises :class:`auth.errors.StoreDamaged` naming the two commands that
repair it (``login`` writes a good entry over it, ``logout`` removes it). Whenever the store is
opened, its folder is made 0700 and its files 0600 (logged at WARNING when they were not).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from auth.errors import StoreDamaged, StoreError
from auth.private import private_dir, problem, tighten_dir, tighten_file, write_private
from auth.record import TokenRecord, json_kind

log = logging.getLogger("feishu_calendar_mcp.auth")

APP_DIR_NAME = "feishu-calendar-mcp"
DEFAULT_PROFILE = "default"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1 << 20  # a store of a few profiles is a few KB; anything near this is not one


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


@dataclass(frozen=True)
class Damage:
    """Why the store, or one account in it, cannot be read. Never shows a value (it could be a token)."""

    reason: str
    raw: Any = None  # the account's entry as stored, written back untouched until login/logout replaces it
    whole_store: bool = False  # the store itself could not be read (the reason then reads "is empty", ...)


@dataclass
class StoreData:
    """The decoded store: profiles -> account key, account key -> token record (or its damage)."""

    default: str = ""
    profiles: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, TokenRecord] = field(default_factory=dict)
    damaged: dict[str, Damage] = field(default_factory=dict)  # account key -> why it cannot be read
    unreadable: str = ""  # why the whole store could not be read ("" when it could); nothing else is known
    source: str = field(default="the token store", compare=False)  # names the store in messages

    def profile_name(self, profile: str | None) -> str:
        return profile or self.default or DEFAULT_PROFILE

    def record(self, profile: str | None) -> TokenRecord | None:
        """The profile's record; None when nobody is signed in; StoreDamaged when it cannot be read."""
        if self.unreadable:
            raise StoreDamaged(f"{self.source} {self.unreadable}")
        name = self.profile_name(profile)
        key = self.profiles.get(name)
        if key is None:
            return None
        damage = self.damaged.get(key)
        if damage is not None:
            raise StoreDamaged(f"the sign-in of profile {name} in {self.source} is damaged: {damage.reason}")
        return self.accounts.get(key)

    def put(self, record: TokenRecord, profile: str | None) -> str:
        if self.unreadable:
            log.warning("%s %s; replacing it with this sign-in", self.source, self.unreadable)
            self.unreadable = ""
        name = self.profile_name(profile)
        key = account_key(record.app_id, record.open_id)
        previous = self.profiles.get(name)
        self.profiles[name] = key
        self.accounts[key] = record
        self.damaged.pop(key, None)
        if previous and previous != key and previous not in self.profiles.values():
            # The profile now signs in as someone else: the old account's tokens have no name left.
            self.accounts.pop(previous, None)
            self.damaged.pop(previous, None)
        if not self.default or self.default not in self.profiles:
            self.default = name
        return name

    def remove(self, profile: str | None) -> TokenRecord | Damage | None:
        """Forget the profile: its record, or the damage that stood in its place; None if it had neither."""
        if self.unreadable:
            # Nothing in it could be read, so nothing else can be kept: the store starts empty.
            whole, self.unreadable = Damage(self.unreadable, whole_store=True), ""
            return whole
        name = self.profile_name(profile)
        key = self.profiles.pop(name, None)
        if key is None:
            return None
        record = self.accounts.get(key)
        damage = self.damaged.get(key)
        if key not in self.profiles.values():
            self.accounts.pop(key, None)
            self.damaged.pop(key, None)
        if self.default == name:
            self.default = min(self.profiles, default="")
        return record or damage or Damage("it named an account with no entry")


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


def delete_profile(store: TokenStore, profile: str | None) -> TokenRecord | Damage | None:
    """Forget the profile's tokens; returns what was removed (a Damage when it was unreadable, None if
    nothing was stored). A store that could not be read at all is replaced by an empty one."""
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
    accounts = {key: damage.raw for key, damage in data.damaged.items()}
    accounts.update((key, rec.to_json()) for key, rec in data.accounts.items())
    return {
        "version": FORMAT_VERSION,
        "default": data.default,
        "profiles": dict(sorted(data.profiles.items())),
        "accounts": dict(sorted(accounts.items())),
    }


def decode(raw: object, source: str = "the token store") -> StoreData:
    """The store in ``raw`` (parsed JSON). Never raises: what cannot be read is recorded as damage."""

    def unreadable(reason: str) -> StoreData:
        return StoreData(unreadable=reason, source=source)

    if not isinstance(raw, dict):
        return unreadable(f"holds {json_kind(raw)}, not a token store")
    version = raw.get("version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            return unreadable(
                f"was written by a newer feishu-calendar-mcp (format {version}; this one reads "
                f"{FORMAT_VERSION}; upgrading also fixes it)"
            )
        return unreadable("has no valid format version")
    default, profiles, accounts = raw.get("default", ""), raw.get("profiles", {}), raw.get("accounts", {})
    if not isinstance(default, str):
        return unreadable(f"names its default profile with {json_kind(default)}, not text")
    if not isinstance(profiles, dict) or not all(isinstance(v, str) for v in profiles.values()):
        return unreadable("has a profiles table of the wrong shape")
    if not isinstance(accounts, dict):
        return unreadable(f"has {json_kind(accounts)} for its accounts, not an object")
    data = StoreData(default=default, profiles=dict(profiles), source=source)
    for key, entry in accounts.items():
        try:
            data.accounts[key] = TokenRecord.from_json(entry)
        except ValueError as exc:
            data.damaged[key] = Damage(str(exc), entry)
    return data


class FileTokenStore:
    """tokens.json in ``directory`` (0700), the file 0600, changes under an fcntl lock."""

    FILE_NAME = "tokens.json"
    LOCK_NAME = "tokens.lock"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / self.FILE_NAME
        self.lock_path = directory / self.LOCK_NAME

    @property
    def description(self) -> str:
        return f"file {self.path}"

    @property
    def source(self) -> str:
        return f"the token store {self.path}"

    def read(self) -> StoreData:
        """A consistent snapshot without the lock: writers only ever swap in complete files."""
        self._check_folder()
        tighten_dir(self.directory)
        blob = self._read_bytes()
        if isinstance(blob, StoreData):
            return blob
        if not blob.strip():
            return StoreData(unreadable="is empty", source=self.source)
        try:
            raw = json.loads(blob.decode("utf-8"))
        except UnicodeDecodeError:
            return StoreData(unreadable="is not text (binary data?)", source=self.source)
        except ValueError:
            return StoreData(unreadable="is not valid JSON (cut off or overwritten?)", source=self.source)
        return self.decode_file(raw)

    def _check_folder(self) -> None:
        try:
            info = os.stat(self.directory)
        except FileNotFoundError:
            return  # nothing stored yet; a change creates it
        except OSError as exc:
            raise StoreError(
                f"cannot reach the token store's folder {self.directory}: {problem(exc)}",
                "make it a folder you can read and write, or set FEISHU_CONFIG_DIR to one",
            ) from exc
        if not stat.S_ISDIR(info.st_mode):
            raise StoreError(
                f"the token store's folder {self.directory} is a file",
                "move that file away, or set FEISHU_CONFIG_DIR to a folder",
            )

    def _read_bytes(self) -> bytes | StoreData:
        """The file's bytes (made 0600 first), or the StoreData saying why there are none."""
        try:
            # O_NONBLOCK: a pipe put in the file's place must not hang every tool call.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return StoreData(source=self.source)
        except OSError as exc:
            return StoreData(unreadable=f"cannot be read: {problem(exc)}", source=self.source)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                return StoreData(unreadable="is a folder, not a file", source=self.source)
            if not stat.S_ISREG(info.st_mode):
                return StoreData(unreadable="is not a regular file (a pipe or a device?)", source=self.source)
            if info.st_size > MAX_FILE_BYTES:
                return StoreData(
                    unreadable=f"is too large to be a token store ({info.st_size} bytes)", source=self.source
                )
            tighten_file(self.path, fd)
            with os.fdopen(os.dup(fd), "rb") as stream:
                return stream.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return StoreData(unreadable=f"cannot be read: {problem(exc)}", source=self.source)
        finally:
            os.close(fd)

    def decode_file(self, raw: object) -> StoreData:
        return decode(raw, self.source)

    def encode_file(self, data: StoreData) -> dict[str, Any]:
        return encode(data)

    def begin(self) -> StoreTransaction:
        """Block until this process holds the store's lock (call from a worker thread in async code)."""
        self._check_folder()
        try:
            private_dir(self.directory)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot open the token store's lock file {self.lock_path}: {problem(exc)}",
                f"make {self.directory} a folder you can write to",
            ) from exc
        try:
            tighten_file(self.lock_path, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            os.close(fd)
            raise StoreError(
                f"cannot lock the token store's lock file {self.lock_path}: {problem(exc)}",
                f"keep {self.directory} on a local disk that supports locks",
            ) from exc
        except BaseException:
            os.close(fd)
            raise
        return _FileTransaction(self, fd)

    def write_locked(self, data: StoreData) -> None:
        """Replace the file atomically; the caller holds the lock. StoreError when it cannot."""
        payload = json.dumps(self.encode_file(data), indent=1, sort_keys=True).encode()
        try:
            for leftover in self.directory.glob(f".{self.FILE_NAME}.*.tmp"):
                # Only lock holders write temp files, so any found now was left by a killed writer.
                leftover.unlink(missing_ok=True)
            if self.path.is_dir() and not self.path.is_symlink():
                self._set_folder_aside()
            write_private(self.path, payload)
        except OSError as exc:
            raise StoreError(f"could not save {self.source}: {problem(exc)}", "fix that (nothing was changed)") from exc

    def _set_folder_aside(self) -> None:
        # A folder where the file belongs cannot be replaced atomically; it is moved, never deleted.
        aside = self.path.with_name(f"{self.FILE_NAME}.damaged-{secrets.token_hex(4)}")
        self.path.rename(aside)
        log.warning("moved the folder %s, which stood where the token store belongs, to %s", self.path, aside)


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
