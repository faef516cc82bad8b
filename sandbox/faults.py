"""Fault injection: make the sandbox misbehave the way Feishu and networks do, on demand.

``sb.faults.inject(kind, ...)`` queues a rule; each request checks the rules in order and the first
that matches (method, path substring, remaining ``times``, ``probability`` drawn from a seeded RNG)
answers instead of, or around, the real route:

* ``rate_limit``: HTTP 429, code 99991400, ``x-ogw-ratelimit-limit`` / ``x-ogw-ratelimit-reset``.
* ``server_error``: HTTP ``status`` (500: a JSON 190003 envelope; 502/503: a gateway's plain text).
* ``slow``: wait ``delay`` seconds (real sleep, or advance the sandbox clock with ``use_clock=True``),
  then run the route: a client that gave up meanwhile was right, nothing happened.
* ``late``: the request is held back and answered with nothing (after ``delay`` real seconds the
  connection drops; a client with a shorter timeout has given up by then), and it *runs later*,
  as a request stuck in a real server's queue can: just before the ``late_by``-th request the
  sandbox receives after it (1: the next one), or when ``await sb.run_late()`` is called. So a
  write whose answer the client never got can still land after the client's newer writes.
  ``faults.late_runs`` lists the held requests that ran, with their status and code.
* ``drop``: the connection closes with no response; ``after_write=True`` applies the request first
  ("the write happened but the answer was lost").
* ``connect_error``: nothing reaches the sandbox: in process, ``httpx2.ConnectError``; over a
  socket the connection is accepted and then dropped (a listening server cannot refuse one
  connection), so the client sees a transport error before any reply.
* ``token_expired``: the request's access token expires just before it is handled (99991677).

A built-in limiter (``sb.faults.rate_limit_per_second = 50``, ``rate_limit_per_minute = 1000``)
answers 99991400 once one app sends more than that to one API (route template) within a second
or a minute of sandbox-clock time.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

FaultKind = Literal["rate_limit", "server_error", "slow", "late", "drop", "connect_error", "token_expired"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


class ConnectionDropped(Exception):
    """Raised through the ASGI app so the transport can turn it into a network error."""

    def __init__(self, connect: bool = False) -> None:
        super().__init__("connection refused" if connect else "connection dropped")
        self.connect = connect


@dataclass
class Fault:
    kind: FaultKind
    times: int | None = None  # None: every matching request until cleared
    probability: float | None = None  # None: always
    method: str | None = None
    path: str | None = None  # substring of the request path
    status: int = 503  # server_error
    delay: float = 1.0  # slow
    use_clock: bool = False  # slow: advance the sandbox clock instead of sleeping
    after_write: bool = False  # drop: apply the request, then drop the answer
    retry_after: int = 1  # rate_limit: x-ogw-ratelimit-reset
    limit: int = 50  # rate_limit: x-ogw-ratelimit-limit
    late_by: int = 1  # late: runs before the late_by-th request received after it
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path in path


@dataclass
class LateRequest:
    """A request held back by a ``late`` fault: what it was, and once it ran, what it answered."""

    method: str
    path: str
    body: bytes
    scope: dict[str, Any] = field(repr=False)
    countdown: int  # requests still to arrive before it runs
    status: int | None = None  # None until it ran
    code: int | None = None


@dataclass
class Faults:
    fault_seed: int = 0
    rules: list[Fault] = field(default_factory=list)
    # The built-in limiter (None: off). Feishu documents 50/s and 1000/min per app and API.
    rate_limit_per_second: int | None = None
    rate_limit_per_minute: int | None = None
    late: list[LateRequest] = field(default_factory=list)  # held back, not run yet
    late_runs: list[LateRequest] = field(default_factory=list)  # ran late, oldest first
    _rng: random.Random = field(init=False)
    _recent: dict[tuple[str, str], deque[float]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.fault_seed)  # noqa: S311 -- reproducible chaos, not cryptography

    def inject(
        self,
        kind: str,
        *,
        times: int | None = None,
        probability: float | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int = 503,
        delay: float = 1.0,
        use_clock: bool = False,
        after_write: bool = False,
        retry_after: int = 1,
        limit: int = 50,
        late_by: int = 1,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 0):
            raise ValueError("times must be a non-negative integer or None")
        if probability is not None and (not isinstance(probability, int | float) or not 0.0 <= probability <= 1.0):
            raise ValueError("probability must be between 0 and 1")
        if not isinstance(delay, int | float) or delay < 0 or not isinstance(retry_after, int) or retry_after < 0:
            raise ValueError("delay and retry_after must be non-negative numbers")
        if not isinstance(late_by, int) or isinstance(late_by, bool) or late_by < 1:
            raise ValueError("late_by must be a positive integer")
        if any(v is not None and not isinstance(v, str) for v in (method, path)):
            raise ValueError("method and path must be strings")
        if kind == "server_error" and status not in (500, 502, 503, 504):
            raise ValueError("server_error status must be 500, 502, 503 or 504")
        rule = Fault(
            kind,  # type: ignore[arg-type]  # checked against FAULT_KINDS above
            times,
            probability,
            method,
            path,
            status,
            delay,
            use_clock,
            after_write,
            retry_after,
            limit,
            late_by,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget the rules; requests still held back are dropped (they never run)."""
        self.rules.clear()
        self._recent.clear()
        self.late.clear()
        self.late_runs.clear()

    def due(self, everything: bool = False) -> list[LateRequest]:
        """Count one arriving request against the held ones; take those whose turn it is."""
        for held in self.late:
            held.countdown -= 1
        ready = [h for h in self.late if everything or h.countdown <= 0]
        self.late = [h for h in self.late if h not in ready]
        return ready

    def reseed(self, seed: int) -> None:
        self.fault_seed = seed
        self._rng = random.Random(seed)  # noqa: S311

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule this request triggers (and counts it), or None."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.probability is not None and self._rng.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def over_limit(self, app_id: str, api: str, now: float) -> int | None:
        """Count a request against the built-in per-app, per-API limits.

        None while within them; otherwise the seconds to wait (``x-ogw-ratelimit-reset``).
        """
        per_second, per_minute = self.rate_limit_per_second, self.rate_limit_per_minute
        if per_second is None and per_minute is None:
            return None
        window = self._recent.setdefault((app_id, api), deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if per_second is not None and sum(1 for t in window if t > now - 1.0) >= per_second:
            return 1
        if per_minute is not None and len(window) >= per_minute:
            return max(1, math.ceil(window[0] + 60.0 - now))
        window.append(now)
        return None
