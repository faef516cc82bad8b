"""The retry policy of the Feishu client: what waits how long, with a clock tests can fake."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Protocol

import anyio


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts and a total deadline per tool call (both configurable in Settings)."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    deadline: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)


def rate_limit_wait(headers: dict[str, str], fallback: float) -> float:
    """Seconds Feishu asks us to wait: x-ogw-ratelimit-reset, else Retry-After, else ``fallback``."""
    for name in ("x-ogw-ratelimit-reset", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return fallback
