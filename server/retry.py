"""The retry policy of the Feishu client: what waits how long (on the one clock, server/clock.py).

Two kinds of failure are retried, with different waits:

* throttling (HTTP 429, codes 99991400 / 190004 / 190005 / 190010): Feishu did not execute the
  request and says when to come back (``x-ogw-ratelimit-reset``, else ``Retry-After``), so we
  wait exactly that long and replay, whatever the operation;
* trouble (5xx, connection errors, timeouts): exponential backoff with full jitter, so many
  clients that failed together do not come back together.

Both are bounded by ``max_attempts`` and by a ``deadline`` for the whole tool call.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

# Feishu's "not executed, come back later" codes (feishu-api.md §10.2, §10.3). 99991403 (monthly
# quota used up) is deliberately absent: waiting seconds does not help.
THROTTLED = frozenset({99991400, 190004, 190005, 190010})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts and a total deadline per tool call (both configurable in Settings)."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    deadline: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            deadline=settings.call_deadline,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)

    def attempt_timeout(self, remaining: float) -> float:
        """How long one HTTP exchange may take: connect plus read, never past the call's deadline.

        Enforced around the request itself (not only by the transport's timeouts), because an
        in-process transport such as the sandbox's ASGI one ignores httpx2's timeouts.
        """
        return max(0.0, min(self.connect_timeout + self.read_timeout, remaining))


def rate_limit_wait(headers: Mapping[str, str], fallback: float) -> float:
    """Seconds Feishu asks us to wait: x-ogw-ratelimit-reset, else Retry-After, else ``fallback``.

    ``headers`` should be case-insensitive (httpx2's Headers); a plain dict must use lower case.
    """
    for name in ("x-ogw-ratelimit-reset", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue  # Retry-After may be an HTTP date; Feishu sends seconds, so fall through
        if seconds >= 0 and seconds == seconds:  # not NaN
            return seconds
    return fallback


@dataclass
class RetryStats:
    """What the client did, for logs, the workload's figures and tests."""

    requests: int = 0  # HTTP requests sent (or attempted)
    retries: int = 0  # requests after the first of a call
    throttled: int = 0  # 429-class answers waited out
    replays: int = 0  # retries after a failure where the request may have been executed
    gave_up: int = 0  # calls that ended in an error after retrying
    waited: float = 0.0  # seconds slept by the retry loop (on the client's clock)
