"""The OS keyring as the home of the secrets, where the optional ``keyring`` package is importable.

The profile index stays in the locked JSON file (so locking, profiles and ``status`` work the same,
without the tokens); each account's whole record (tokens *and* their expiry times) is one keyring
entry. One entry is one unit: a reader sees either the old record or the new one, never a new token
beside an old expiry (which made a reader refresh a second time and spend a refresh token twice).
Writes set the entries before the index names them, and delete entries only after it stopped.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from auth.errors import AuthError, StoreError
from auth.store import Damage, FileTokenStore, StoreData, decode, encode

SERVICE = "feishu-calendar-mcp"
_SECRET_FIELDS = ("access_token", "refresh_token")
_T = TypeVar("_T")


class KeyringBackend(Protocol):
    """The three calls of the ``keyring`` module this store uses; deleting a missing entry is a no-op."""

    def get_password(self, service_name: str, username: str) -> str | None: ...

    def set_password(self, service_name: str, username: str, password: str) -> None: ...

    def delete_password(self, service_name: str, username: str) -> None: ...


class SystemKeyring:
    """The ``keyring`` module, its failures (locked, no backend, ...) turned into one-line StoreErrors."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self._failure: type[Exception] = module.errors.KeyringError
        self._missing: type[Exception] = module.errors.PasswordDeleteError

    def get_password(self, service_name: str, username: str) -> str | None:
        found: str | None = self._call(lambda: self._module.get_password(service_name, username))
        return found

    def set_password(self, service_name: str, username: str, password: str) -> None:
        self._call(lambda: self._module.set_password(service_name, username, password))

    def delete_password(self, service_name: str, username: str) -> None:
        try:
            self._call(lambda: self._module.delete_password(service_name, username))
        except StoreError as exc:
            if not isinstance(exc.__cause__, self._missing):
                raise

    def _call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except self._failure as exc:
            # The class name only: a backend's message is not ours to vouch for.
            raise StoreError(
                f"the OS keyring cannot be used ({type(exc).__name__})",
                "unlock or set up the keyring, or use the file store (unset FEISHU_TOKEN_STORE)",
            ) from exc


def system_keyring() -> KeyringBackend:
    try:
        module: Any = importlib.import_module("keyring")
    except ImportError as exc:
        raise AuthError(
            "FEISHU_TOKEN_STORE=keyring needs the `keyring` package (pip install keyring), "
            "or use the default file store"
        ) from exc
    return SystemKeyring(module)


class KeyringTokenStore(FileTokenStore):
    """Same file and lock as :class:`FileTokenStore`, with each account's record in the keyring."""

    def __init__(self, directory: Path, backend: KeyringBackend) -> None:
        super().__init__(directory)
        self.backend = backend

    @property
    def description(self) -> str:
        return f"OS keyring (service {SERVICE}), index in {self.path}"

    def encode_file(self, data: StoreData) -> dict[str, Any]:
        raw = encode(data)
        for key in data.accounts:
            for name in _SECRET_FIELDS:
                raw["accounts"][key].pop(name)
        return raw

    def write_locked(self, data: StoreData) -> None:
        before = self._indexed_keys()
        for key, record in data.accounts.items():
            self.backend.set_password(SERVICE, key, json.dumps(record.to_json()))
        super().write_locked(data)
        for key in before - set(data.accounts) - set(data.damaged):
            self.backend.delete_password(SERVICE, key)

    def decode_file(self, raw: object) -> StoreData:
        index = decode(raw, self.source)
        if index.unreadable:
            return index
        entries: dict[str, Any] = _as_dict(raw).get("accounts") or {}  # an object: decode checked it
        whole: dict[str, Any] = {}
        trouble: dict[str, str] = {}
        for key, entry in entries.items():
            whole[key], trouble[key] = _whole(entry, self.backend.get_password(SERVICE, key))
        data = decode({**_as_dict(raw), "accounts": whole}, self.source)
        for key, entry in entries.items():
            damage = data.damaged.get(key)
            if trouble[key] or damage is not None:
                # What goes back into the file is the file's own entry, never the keyring's secrets.
                data.accounts.pop(key, None)
                data.damaged[key] = Damage(trouble[key] or (damage.reason if damage else ""), entry)
        return data

    def _indexed_keys(self) -> set[str]:
        """The accounts the file names now (whose keyring entries this store owns)."""
        try:
            raw = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return set()
        accounts = _as_dict(raw).get("accounts")
        return set(accounts) if isinstance(accounts, dict) else set()


def _whole(entry: object, stored: str | None) -> tuple[object, str]:
    """An account's record (the file's entry overridden by the keyring's, tokens and expiry together),
    and what is wrong with the keyring's part ("" when nothing)."""
    if not isinstance(entry, dict):
        return entry, ""
    if stored is None:
        return entry, "its tokens are missing from the OS keyring"
    try:
        record = json.loads(stored)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return entry, "its OS keyring entry is not a token record"
    return {**entry, **record}, ""


def _as_dict(raw: object) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}
