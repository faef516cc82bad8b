"""The local HTTP transport's key: a random secret in the config folder, required on every request.

``serve --transport http`` listens on 127.0.0.1, where every local user and process can connect.
Without a key any of them could call every tool as the signed-in user, or, on a server nobody has
signed in to yet, start a sign-in and attach an account of their choosing. So the server creates a
random key on first use (``http-key`` in the config folder, 0600, folder 0700) and answers 401 to
any request without ``Authorization: Bearer <key>``. Only someone who can read the file (the user
who runs the server) can configure a client.

This module is the local mode's auth only: a plain ASGI wrapper around whatever app serves MCP,
so another mode (a remote team server with OAuth) can use its own auth instead of this one.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from auth.private import private_dir

log = logging.getLogger("feishu_calendar_mcp.http")

KEY_FILE_NAME = "http-key"
# token_urlsafe(32): 256 random bits in 43 URL-safe characters.
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,128}")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def key_file(directory: Path) -> Path:
    return directory / KEY_FILE_NAME


def load_or_create_key(directory: Path) -> str:
    """The key in ``directory``, created (0600, atomically) if there is none or it cannot be trusted."""
    # The folder holds the key and the tokens: nobody else may list or enter it.
    private_dir(directory)
    path = key_file(directory)
    for _ in range(3):
        key = _read_key(path)
        if key is not None:
            return key
        if _create_key(path, secrets.token_urlsafe(32)):
            log.info("created a new HTTP key in %s", path)
    raise OSError(f"could not create a usable HTTP key at {path}")


def _read_key(path: Path) -> str | None:
    """The stored key, or None (after removing the file) when it is missing, malformed or exposed."""
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, ValueError):
        text = ""
    exposed = os.name == "posix" and bool(stat.S_IMODE(info.st_mode) & 0o077)
    if exposed:
        # Other users could have read it: it is no longer a secret. A new key, not a chmod.
        log.warning("%s was readable by other users; replacing it with a new key", path)
    elif not _KEY_SHAPE.fullmatch(text):
        log.warning("%s does not hold a key; replacing it with a new one", path)
    else:
        return text
    path.unlink(missing_ok=True)
    return None


def _create_key(path: Path, key: str) -> bool:
    """Write ``key`` to ``path`` only if no file is there; False when another process won the race."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n")
            out.flush()
            os.fsync(out.fileno())
        # link() never replaces an existing file: two servers starting at once agree on one key.
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)


class LocalKeyAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <key>``, else 401."""

    def __init__(self, app: ASGIApp, key: str, key_path: Path) -> None:
        self._app = app
        self._key = key.encode()
        self._key_path = key_path

    def __repr__(self) -> str:
        return f"LocalKeyAuth(key_path={str(self._key_path)!r})"  # never the key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._app(scope, receive, send)
            return
        presented = _bearer(scope)
        if presented is not None and hmac.compare_digest(presented, self._key):
            await self._app(scope, receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self._refuse(send, wrong=presented is not None)

    async def _refuse(self, send: Send, *, wrong: bool) -> None:
        challenge = 'Bearer realm="feishu-calendar-mcp"'
        if wrong:
            challenge += ', error="invalid_token", error_description="the key is not this server\'s"'
        body = json.dumps(
            {
                "error": "invalid_token" if wrong else "unauthorized",
                "error_description": (
                    "this server needs the header 'Authorization: Bearer <key>'; the key is in "
                    f"{self._key_path}, readable only by the user who runs the server"
                ),
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", challenge.encode()),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = bytes(value).partition(b" ")
            if scheme.lower() == b"bearer":
                return credentials.strip()
            return b""
    return None
