"""The sandbox's notion of "now": real time, or a test's fixed or advancing clock.

Token expiry, authorization-code lifetime, sync-token age and the seed week all read
:meth:`Clock.now`, so a test can jump hours ahead with :meth:`Clock.advance` instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Unix seconds from ``source`` (default: the wall clock), plus whatever was advanced."""

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        self._source = source or time.time
        self._offset = 0.0

    def now(self) -> float:
        return self._source() + self._offset

    def now_int(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> None:
        """Move the sandbox's time forward (tokens and codes age; nothing sleeps)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds
