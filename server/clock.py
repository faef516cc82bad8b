"""The one clock: what time it is for the server, its tools and the sandbox, and how waits pass.

A single :class:`Clock` object is made where the process starts (``serve``, ``demo``, a test)
and handed down: to the Feishu client (retry waits, call deadlines), to the tools (through the
server's state: "now", "today") and to the sandbox (token expiry, the world built around
"now"). Nothing else in ``server/``, ``tools/`` or ``sandbox/`` reads the system time, so a
test that pins this one object pins every one of them, whatever the weekday, hour or the
machine's timezone.

- :class:`SystemClock`: real time (optionally started at another instant, for a sandbox pinned
  from outside), real sleeps.
- :class:`VirtualClock`: time stands still until advanced or slept; sleeps return at once and
  are recorded (for tests and the workload).

This module imports nothing heavy: ``serve`` loads it on every start, and the sandbox (which
must not pull in the server) imports it too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import anyio
import anyio.lowlevel


class Clock(Protocol):
    """Time as everything in this process sees it."""

    def now(self) -> float:
        """Unix seconds: the instant "now", "today" and every expiry are read from."""
        ...

    def monotonic(self) -> float:
        """Seconds on a scale that never jumps back, for deadlines and elapsed time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...

    def advance(self, seconds: float) -> None:
        """Move time forward without waiting (the sandbox's admin route and faults use it)."""
        ...


class SystemClock:
    """The machine's time, moved by ``start`` (a pinned sandbox) and by :meth:`advance`.

    ``now`` reads the wall clock (so "today" is right after a laptop wakes); deadlines read the
    monotonic one (so a wall-clock step cannot cut a call short).
    """

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def advance(self, seconds: float) -> None:
        _forward_only(seconds)
        self._offset += seconds


class VirtualClock:
    """A clock whose time moves only when told: sleeps return at once and move it.

    It records every wait, so retry timing can be asserted exactly, with no real sleeping.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.time = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def monotonic(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        _forward_only(seconds)
        self.time += seconds


def _forward_only(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("the clock only moves forward")


# Hidden, for tests only (documented in sandbox/README.md): start the sandbox's clock at another
# instant, so a run of `serve --sandbox`, `sandbox` or `demo` can be pinned to any weekday and hour.
# Never read outside the sandbox commands; unset, the sandbox runs on the machine's time.
SANDBOX_NOW_VARIABLE = "FEISHU_SANDBOX_NOW"


def sandbox_clock(environ: Mapping[str, str]) -> SystemClock:
    """The sandbox commands' clock: real time, started at ``FEISHU_SANDBOX_NOW`` when it is set.

    A ValueError names the variable and the accepted forms.
    """
    value = environ.get(SANDBOX_NOW_VARIABLE, "").strip()
    if not value:
        return SystemClock()
    try:
        return SystemClock(start=_instant(value))
    except ValueError:
        raise ValueError(
            f"{SANDBOX_NOW_VARIABLE}: expected Unix seconds or RFC 3339 with an offset "
            f"(2026-12-07T09:00:00+08:00), got {value!r}"
        ) from None


def _instant(value: str) -> float:
    if value.isdigit():
        return float(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("no UTC offset")
    return moment.timestamp()
