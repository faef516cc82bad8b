"""The one Feishu HTTP client: bearer token, envelope, error mapping, retries, primary calendar.

Every tool call goes through :meth:`FeishuClient.call`. It never logs a token, a body or a
query string (those may carry personal data), only method, route, status, code and log id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import anyio
import httpx2

from server import errors
from server.retry import Clock, RealClock, RetryPolicy, rate_limit_wait
from tools.spec import Replay

log = logging.getLogger("feishu_calendar_mcp.client")

# The user token was refused: refresh once and replay once (feishu-api.md §10.2).
TOKEN_REJECTED = frozenset({99991668, 99991677})
PRIMARY_ROUTE = "/open-apis/calendar/v4/calendars/primary"


class TokenSource(Protocol):
    """Where user tokens come from (implemented in auth/; never a tool argument)."""

    @property
    def identity(self) -> str: ...

    async def access_token(self) -> str: ...

    async def refresh_after_rejection(self, rejected: str) -> str: ...


class FeishuClient:
    """Sends one operation's request to Feishu and returns its ``data`` or raises FeishuError."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        tokens: TokenSource,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.policy = policy or RetryPolicy()
        self.clock = clock or RealClock()
        self._primary: dict[str, str] = {}
        self._primary_lock = anyio.Lock()

    async def primary_calendar_id(self) -> str:
        """The signed-in user's primary calendar id, resolved once per identity."""
        identity = self.tokens.identity
        if identity in self._primary:
            return self._primary[identity]
        async with self._primary_lock:
            if identity not in self._primary:
                data = await self.call("resolve_primary_calendar", "POST", PRIMARY_ROUTE, replay=Replay.SAFE)
                calendars = data.get("calendars") or []
                calendar_id = (calendars[0].get("calendar") or {}).get("calendar_id") if calendars else None
                if not calendar_id:
                    raise errors.NotFound(
                        "resolve_primary_calendar",
                        191000,
                        "no primary calendar returned",
                        advice="pass calendar_id explicitly",
                    )
                self._primary[identity] = str(calendar_id)
        return self._primary[identity]

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: dict[str, Any] | None = None,
        replay: Replay = Replay.SAFE,
        done_after_replay: frozenset[int] = frozenset(),
    ) -> dict[str, Any]:
        """Send with retries; ``path`` must already be validated and percent-encoded."""
        policy = self.policy
        started = self.clock.now()
        token = await self.tokens.access_token()
        refreshed = replayed = False
        attempt = 0
        while True:
            attempt += 1
            may_replay = replay is not Replay.NEVER
            last_try = attempt >= policy.max_attempts
            try:
                response = await self.http.request(
                    method,
                    path,
                    params=list(query),
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
                # Nothing reached Feishu: safe to try again whatever the operation.
                await self._pause_or_raise(operation, exc, attempt, started)
                continue
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:
                if not may_replay:
                    raise self._unknown(operation, type(exc).__name__) from exc
                await self._pause_or_raise(operation, exc, attempt, started)
                replayed = True
                continue

            log_id = response.headers.get("x-tt-logid", "")
            envelope = _envelope(response)
            code = int(envelope.get("code", -1)) if envelope is not None else -1
            log.debug("%s %s -> %s code=%s logid=%s", method, operation, response.status_code, code, log_id)
            if envelope is not None and code == 0:
                data = envelope.get("data")
                return data if isinstance(data, dict) else {}
            if replayed and code in done_after_replay:
                # Our earlier attempt did it before the connection failed.
                return {}
            if code in TOKEN_REJECTED and not refreshed:
                token = await self.tokens.refresh_after_rejection(token)
                refreshed = True
                attempt -= 1  # a refresh is not a retry of the operation
                continue
            if envelope is None:
                envelope = {
                    "code": response.status_code,
                    "msg": f"HTTP {response.status_code}, not a Feishu reply",
                }
                code = response.status_code
            wait = rate_limit_wait(dict(response.headers), policy.backoff(attempt))
            err = errors.from_response(
                operation,
                response.status_code,
                code,
                str(envelope.get("msg", "")),
                log_id,
                envelope.get("error"),
                wait,
            )
            if isinstance(err, errors.RateLimited) and code != 99991403:
                # A throttled request was not executed, so replaying it is always safe.
                if last_try or self.clock.now() - started + wait > policy.deadline:
                    raise err
                await self.clock.sleep(wait)
                continue
            if isinstance(err, errors.UpstreamUnavailable):
                if not may_replay:
                    raise self._unknown(operation, f"HTTP {response.status_code}")
                if last_try or self.clock.now() - started + wait > policy.deadline:
                    raise err
                await self.clock.sleep(policy.backoff(attempt))
                replayed = True
                continue
            raise err

    async def _pause_or_raise(self, operation: str, exc: Exception, attempt: int, started: float) -> None:
        delay = self.policy.backoff(attempt)
        out_of_time = self.clock.now() - started + delay > self.policy.deadline
        if attempt >= self.policy.max_attempts or out_of_time:
            kind = type(exc).__name__
            raise errors.UpstreamUnavailable(
                operation,
                -1,
                f"network failure ({kind}) after {attempt} attempts",
                advice="Feishu could not be reached; retry in a minute",
            ) from exc
        log.info("%s: %s, retrying in %.2fs (attempt %d)", operation, type(exc).__name__, delay, attempt)
        await self.clock.sleep(delay)

    @staticmethod
    def _unknown(operation: str, what: str) -> errors.OutcomeUnknown:
        return errors.OutcomeUnknown(
            operation,
            -1,
            f"no answer from Feishu ({what}); the change may or may not have been made",
            advice="check the current state (get_event / list_attendees / view_instances) before trying again",
        )


def _envelope(response: httpx2.Response) -> dict[str, Any] | None:
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "code" in parsed else None
