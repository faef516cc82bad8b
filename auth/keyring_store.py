"""The OS keyring as the home of the secrets, where the optional ``keyring`` package is importable.

The profile index and expiry times stay in the locked JSON file (so locking, profiles and
``status`` work the same); the access and refresh tokens go to the keyring, one entry per account.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Protocol

from auth.errors import AuthError
from auth.store import FileTokenStore, StoreData, decode, encode

SERVICE = "feishu-calendar-mcp"
_SECRET_FIELDS = ("access_token", "refresh_token")


class KeyringBackend(Protocol):
    """The three calls of the ``keyring`` module this store uses."""

    def get_password(self, service_name: str, username: str) -> str | None: ...

    def set_password(self, service_name: str, username: str, password: str) -> None: ...

    def delete_password(self, service_name: str, username: str) -> None: ...


def system_keyring() -> KeyringBackend:
    try:
        module: Any = importlib.import_module("keyring")
    except ImportError as exc:
        raise AuthError(
            "FEISHU_TOKEN_STORE=keyring needs the `keyring` package (pip install keyring), "
            "or use the default file store"
        ) from exc
    backend: KeyringBackend = module
    return backend


class KeyringTokenStore(FileTokenStore):
    """Same file and lock as :class:`FileTokenStore`, with the tokens themselves in the keyring."""

    def __init__(self, directory: Path, backend: KeyringBackend) -> None:
        super().__init__(directory)
        self.backend = backend

    @property
    def description(self) -> str:
        return f"OS keyring (service {SERVICE}), index in {self.path}"

    def encode_file(self, data: StoreData) -> dict[str, Any]:
        raw = encode(data)
        for key, account in raw["accounts"].items():
            secrets = {name: account.pop(name) for name in _SECRET_FIELDS}
            self.backend.set_password(SERVICE, key, json.dumps(secrets))
        stale = set(self._stored_keys()) - set(raw["accounts"])
        for key in stale:
            self.backend.delete_password(SERVICE, key)
        return raw

    def decode_file(self, raw: dict[str, Any]) -> StoreData:
        for key, account in (raw.get("accounts") or {}).items():
            stored = self.backend.get_password(SERVICE, key)
            secrets = json.loads(stored) if stored else {}
            for name in _SECRET_FIELDS:
                account[name] = str(secrets.get(name) or "")
        return decode(raw)

    def _stored_keys(self) -> list[str]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return []
        return list((raw.get("accounts") or {}).keys())
