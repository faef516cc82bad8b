"""Files only their owner may read: folders 0700, files 0600, written atomically, tightened when opened.

The token store uses these for ``tokens.json`` and its lock; any other secret the program keeps in
the config folder should too. Tightening is logged at WARNING (the path and the modes, nothing
else), because a store that others could read may already have been copied.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("feishu_calendar_mcp.auth")

DIR_MODE = 0o700
FILE_MODE = 0o600


def tighten_dir(path: Path) -> None:
    """Clear every permission bit of the folder ``path`` beyond 0700 (0755 -> 0700), saying so."""
    _tighten(path, DIR_MODE, stat.S_ISDIR, None)


def tighten_file(path: Path, fd: int | None = None) -> None:
    """Clear every permission bit of the file ``path`` beyond 0600 (0644 -> 0600), saying so.

    With ``fd`` the open file itself is changed (no window in which the path could be swapped).
    """
    _tighten(path, FILE_MODE, stat.S_ISREG, fd)


def _tighten(path: Path, mode: int, is_kind: Callable[[int], bool], fd: int | None) -> None:
    # Anything else at the path (missing, a folder where a file belongs, ...) is left to the caller.
    try:
        info = os.fstat(fd) if fd is not None else os.stat(path)
    except OSError:
        return
    current = stat.S_IMODE(info.st_mode)
    if not is_kind(info.st_mode) or not current & ~mode:
        return
    wanted = current & mode
    try:
        if fd is not None:
            os.fchmod(fd, wanted)
        else:
            os.chmod(path, wanted)
    except OSError as exc:
        log.warning(
            "%s is open to other users (mode %04o) and could not be restricted to %04o: %s",
            path,
            current,
            wanted,
            problem(exc),
        )
        return
    log.warning("%s was open to other users (mode %04o); restricted it to %04o", path, current, wanted)


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if needed; the folder itself ends up 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten_dir(path)


def write_private(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` atomically, mode 0600: readers see the old or the new file.

    Temp file (``.NAME.HEX.tmp`` beside it) + fsync + os.replace + fsync of the folder, so a
    process killed mid-write never leaves a torn file. Raises OSError (disk full, no permission).
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def problem(exc: OSError) -> str:
    """An OSError in a few words a user can act on (no errno numbers, no traceback)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the disk"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (is it owned by another user?)"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.EISDIR:
        return "it is a folder, not a file"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a file stands where a folder should be"
    return exc.strerror or type(exc).__name__


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse to fsync a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
