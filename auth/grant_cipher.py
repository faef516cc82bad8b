"""Sealing Feishu grants at rest: AES-256-GCM, the subject as associated data, rotating keys.

``FEISHU_TOKEN_KEY`` holds one or more keys, comma-separated, newest first, each 32 random bytes
in URL-safe base64 (:meth:`GrantCipher.new_key` makes one; docs/team-mode.md shows the command).
New seals use the first; every listed key still opens what it sealed (found by its key id), so a
rotation is: put the new key first, roll the replicas, re-seal (:func:`auth.grants_redis.reseal_all`),
then drop the old key.

Each key is a master key: the AES key actually used is derived from it with HKDF for this one
purpose, so the same secret can never be confused with another use. The associated data binds a
ciphertext to its subject: a sealed grant copied onto another user's record does not open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from auth.errors import AuthError

KEY_BYTES = 32
NONCE_BYTES = 12
PURPOSE = b"feishu-calendar-mcp grant seal v1"


class SealError(AuthError):
    """A key setting that cannot be used, or a seal no configured key opens."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM = field(repr=False)


def key_id(master: bytes) -> str:
    """Names a master key without revealing it: a hash of it, truncated."""
    return hashlib.sha256(b"kid:" + master).hexdigest()[:12]


def derive_key(master: bytes, purpose: bytes) -> bytes:
    """A key for one purpose only (HKDF-SHA256), so one secret never serves two uses."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


def parse_keys(value: str) -> list[bytes]:
    """FEISHU_TOKEN_KEY's text: comma-separated URL-safe base64 keys of 32 bytes, newest first."""
    masters = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            masters.append(_unb64(part))
        except ValueError:
            raise SealError("a FEISHU_TOKEN_KEY entry is not URL-safe base64") from None
    if not masters:
        raise SealError("FEISHU_TOKEN_KEY is empty: team mode needs at least one key to seal Feishu grants")
    for master in masters:
        if len(master) != KEY_BYTES:
            raise SealError(f"each FEISHU_TOKEN_KEY entry must be {KEY_BYTES} bytes in URL-safe base64")
    return masters


def _derive(master: bytes) -> _Key:
    return _Key(key_id(master), AESGCM(derive_key(master, PURPOSE)))


class GrantCipher:
    """Seals and opens grant payloads; the first key seals, any key opens its own seals."""

    def __init__(self, masters: list[bytes]) -> None:
        self._keys = [_derive(master) for master in masters]
        self._by_kid = {key.kid: key for key in self._keys}

    def __repr__(self) -> str:
        return f"GrantCipher(kids={[key.kid for key in self._keys]})"

    @classmethod
    def from_setting(cls, value: str) -> GrantCipher:
        """From FEISHU_TOKEN_KEY's text (see :func:`parse_keys`)."""
        return cls(parse_keys(value))

    @staticmethod
    def new_key() -> str:
        """A fresh key in the setting's format."""
        return _b64(os.urandom(KEY_BYTES))

    @property
    def current_kid(self) -> str:
        return self._keys[0].kid

    def seal(self, plaintext: bytes, subject: str) -> str:
        key = self._keys[0]
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext, _aad(subject))
        return json.dumps({"kid": key.kid, "n": _b64(nonce), "ct": _b64(sealed)}, separators=(",", ":"))

    def kid_of(self, sealed: str) -> str:
        return str(json.loads(sealed).get("kid", ""))

    def open(self, sealed: str, subject: str) -> bytes:
        try:
            box = json.loads(sealed)
            key = self._by_kid.get(str(box["kid"]))
            nonce, ciphertext = _unb64(box["n"]), _unb64(box["ct"])
        except (ValueError, KeyError, TypeError):
            raise SealError("a stored grant is damaged (not a sealed box)") from None
        if key is None:
            raise SealError(
                f"a stored grant was sealed with key {box.get('kid')!r}, which FEISHU_TOKEN_KEY no longer lists"
            )
        try:
            return key.aead.decrypt(nonce, ciphertext, _aad(subject))
        except InvalidTag:
            raise SealError("a stored grant does not open for its subject (tampered or moved)") from None


def _aad(subject: str) -> bytes:
    return f"{subject}|grant|v1".encode()
