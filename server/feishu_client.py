"""The one Feishu HTTP client's request loop: envelope, error mapping, retries, primary calendar.

The user's token reaches each request through :class:`server.feishu_auth.UserTokenAuth` (attach,
refresh on refusal), chosen per request, so one HTTP client serves every user.

Every tool call goes through :meth:`FeishuClient.call`. It never logs a token, a body or a
query string (those may carry personal data), only method, route, status, code and log id.

Retrying is decided here and nowhere else (see server/retry.py for the waits). Whether a
request may be sent again after a failure that might have executed it (a timeout, a dropped
connection, a 5xx) is the operation's ``Replay`` rule; a request that certainly did not
execute (connection refused, throttled, token refused) is always sent again.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2

from server import errors
from server.clock import Clock, SystemClock
from server.feishu_auth import TOKEN_REJECTED, TokenSource, UserTokenAuth
from server.feishu_envelope import feishu_envelope
from server.retry import RetryPolicy, RetryStats, rate_limit_wait
from tools.spec import Replay

log = logging.getLogger("feishu_calendar_mcp.client")

PRIMARY_ROUTE = "/open-apis/calendar/v4/calendars/primary"
# Feishu's own rate limits are per second: with no reset header, a second is the honest wait.
THROTTLE_FALLBACK = 1.0
# When the current tool call started (on the client's clock): all its requests share one deadline.
_TOOL_CALL_STARTED: ContextVar[float | None] = ContextVar("feishu_tool_call_started", default=None)
# How many unsettled deletes to remember (oldest forgotten first).
UNSETTLED_LIMIT = 256


@dataclass
class Outcome:
    """What a caller may want to know about how a call went, besides its answer.

    ``unanswered``: when (client clock) each request that may have executed went unanswered
    (timeout, dropped connection, 5xx). Such a request can still land at Feishu later, after
    newer writes: server/writes.py uses this to verify and to warn.
    """

    unanswered: list[float] = field(default_factory=list)


@dataclass
class _Call:
    """One tool call's request as it goes through its attempts."""

    operation: str
    method: str
    path: str
    query: list[tuple[str, str]]
    body: dict[str, Any] | None
    replay: Replay
    writes: bool
    done_after_replay: frozenset[int]
    scopes: Sequence[str]
    started: float
    identity: str = ""
    attempts: int = 0
    maybe_applied: bool = False  # an earlier attempt may have executed without us learning it
    auth: UserTokenAuth | None = None  # this call's token on each of its requests
    log_id: str = ""
    outcome: Outcome = field(default_factory=Outcome)
    unreachable: str = ""  # the last connection failure: no attempt reached the server

    @property
    def in_flight(self) -> bool:
        """A request is out and unanswered (matters if the deadline cuts it off)."""
        return self.auth is not None and self.auth.on_the_wire

    @property
    def fingerprint(self) -> tuple[str, ...]:
        """The request's identity across tool calls: the same delete sent again by the model."""
        body = json.dumps(self.body, sort_keys=True, default=str)
        return (self.identity, self.method, self.path, repr(sorted(self.query)), body)

    @property
    def idempotency_key(self) -> str:
        return next((v for k, v in self.query if k == "idempotency_key"), "")

    @property
    def replayable(self) -> bool:
        """May this request be sent again although an earlier attempt may have executed?"""
        if self.replay is Replay.KEYED:
            return bool(self.idempotency_key)  # without its key a create is not safe to repeat
        return self.replay is not Replay.NEVER


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
        # Requests go out as whole URLs, the same that httpx2 would merge from base_url, the path and
        # the query: a whole URL string is parsed once and cached by httpx2, a merge anew every time.
        self._origin = str(http.base_url).rstrip("/")
        self.tokens = tokens
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self.stats = RetryStats()
        self._primary: dict[str, str] = {}
        self._primary_lock = anyio.Lock()
        # Deletes that gave up after a request may have executed (see _Call.fingerprint).
        self._unsettled: OrderedDict[tuple[str, ...], None] = OrderedDict()

    @contextmanager
    def tool_call(self) -> Iterator[None]:
        """Within this block every request (primary lookup, the operation, the overlap check)
        shares one ``policy.deadline``, so a tool call as a whole cannot outlive it."""
        reset = _TOOL_CALL_STARTED.set(self.clock.monotonic())
        try:
            yield
        finally:
            _TOOL_CALL_STARTED.reset(reset)

    async def primary_calendar_id(self) -> str:
        """The signed-in user's primary calendar id, resolved once per identity."""
        identity = self.tokens.identity
        if identity in self._primary:
            return self._primary[identity]
        async with self._primary_lock:
            if identity not in self._primary:
                data = await self.call(
                    "resolve_primary_calendar", "POST", PRIMARY_ROUTE, replay=Replay.SAFE, writes=False
                )
                calendars = data.get("calendars") or []
                first = calendars[0] if isinstance(calendars, list) and calendars else {}
                calendar = first.get("calendar") if isinstance(first, dict) else None
                calendar_id = calendar.get("calendar_id") if isinstance(calendar, dict) else None
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
        writes: bool | None = None,
        scopes: Sequence[str] = (),
        outcome: Outcome | None = None,
    ) -> dict[str, Any]:
        """Send with retries; ``path`` must already be validated and percent-encoded.

        ``writes`` (default: any method but GET) says whether the request changes anything,
        which decides what a failure tells the model. The whole call, retries and waits
        included, ends by ``policy.deadline``; cancelling it cancels the request in flight.
        ``outcome``, if given, is filled in whether the call succeeds or fails.
        """
        started = _TOOL_CALL_STARTED.get()
        call = _Call(
            operation=operation,
            method=method,
            path=path,
            query=list(query),
            body=body,
            replay=replay,
            writes=method != "GET" if writes is None else writes,
            done_after_replay=done_after_replay,
            scopes=scopes,
            started=self.clock.monotonic() if started is None else started,
            identity=self.tokens.identity,
            outcome=outcome or Outcome(),
        )
        with anyio.move_on_after(self.policy.deadline - (self.clock.monotonic() - call.started)):
            try:
                return await self._attempts(call)
            except errors.FeishuError as err:
                self._settle_later(call, err)
                raise
        if call.in_flight:
            call.maybe_applied = True
            call.outcome.unanswered.append(self.clock.monotonic())
        late = self._gave_up(call, -1, f"no answer within the {self.policy.deadline:g} s deadline for one call")
        raise self._settle_later(call, late)

    def _settle_later(self, call: _Call, err: errors.FeishuError) -> errors.FeishuError:
        """Make a failed call's error say what may already have happened, and remember it.

        Whatever ends the call (out of attempts, throttled, deadline) after a request may have
        executed, the model must learn that, and for a create the key that makes repeating it
        safe. An unsettled delete is remembered so its advised repeat reports "already gone" as done.
        """
        if not (call.maybe_applied and call.writes) or isinstance(err, errors.OutcomeUnknown):
            return err
        advice = _retry_advice(call)
        if advice not in err.advice:
            err.advice = f"{err.advice}. Also: {advice}" if err.advice else advice
        if call.done_after_replay:
            self._unsettled[call.fingerprint] = None
            while len(self._unsettled) > UNSETTLED_LIMIT:
                self._unsettled.popitem(last=False)
        return err

    async def _attempts(self, call: _Call) -> dict[str, Any]:
        # A delete that gave up earlier may have happened: then "already gone" now means done.
        # (The fingerprint serialises the body: only worth it when something is unsettled.)
        call.maybe_applied = bool(self._unsettled) and call.fingerprint in self._unsettled
        call.auth = auth = UserTokenAuth(self.tokens)
        # One URL string, query included (httpx2's own encoding of it): httpx2 caches the parse of a
        # URL string (128 of them), so a repeated request parses nothing, where a path plus ``params``
        # was merged and its query validated character by character on every request (~0.05 ms).
        url = self._origin + call.path + (f"?{httpx2.QueryParams(tuple(call.query))}" if call.query else "")
        while True:
            call.attempts += 1
            self.stats.requests += 1
            if call.attempts > 1:
                self.stats.retries += 1
            remaining = self.policy.deadline - (self.clock.monotonic() - call.started)
            if remaining <= 0:
                raise self._gave_up(call, -1, f"no answer within the {self.policy.deadline:g} s deadline for one call")
            try:
                with anyio.fail_after(self.policy.attempt_timeout(remaining)):
                    response = await self.http.request(call.method, url, json=call.body, auth=auth)
                auth.on_the_wire = False
            except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
                auth.on_the_wire = False
                # Nothing reached Feishu: safe to try again whatever the operation.
                call.unreachable = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                await self._trouble(call, type(exc).__name__, executed=False)
                continue
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:
                auth.on_the_wire = False
                await self._trouble(call, type(exc).__name__, executed=True)
                continue
            except TimeoutError:
                # Cut off while a request was out (it may have executed), or while getting a token.
                executed, auth.on_the_wire = auth.on_the_wire, False
                await self._trouble(call, "timeout", executed=executed)
                continue

            call.log_id = response.headers.get("x-tt-logid", "")
            envelope = feishu_envelope(response)
            code = _code(envelope)
            log.debug("%s -> HTTP %s code %s (log id %s)", call.operation, response.status_code, code, call.log_id)
            if envelope is not None and code == 0:
                if self._unsettled:
                    self._unsettled.pop(call.fingerprint, None)
                data = envelope.get("data")
                return data if isinstance(data, dict) else {}
            if call.maybe_applied and code in call.done_after_replay:
                # Our earlier attempt (in this call or an earlier one) did it; its answer was lost.
                if self._unsettled:
                    self._unsettled.pop(call.fingerprint, None)
                return {}
            if code in TOKEN_REJECTED and self._may_retry(call, 0):
                # A freshly refreshed token refused again (the auth flow already spent its own
                # refresh): that counts as a failed attempt; the next one refreshes before sending.
                auth.refused = True
                continue
            not_feishu = envelope is None
            if envelope is None:
                where = response.request.url.copy_with(query=None)
                envelope = {"msg": f"HTTP {response.status_code} from {where}, not a Feishu reply"}
                code = response.status_code if response.status_code >= 400 else -1
            wait = rate_limit_wait(response.headers, THROTTLE_FALLBACK)
            err = errors.from_response(
                call.operation,
                response.status_code,
                code,
                str(envelope.get("msg", "")),
                call.log_id,
                envelope.get("error"),
                wait,
                call.scopes,
                not_feishu=not_feishu,
            )
            call.log_id = err.log_id
            if isinstance(err, errors.RateLimited):
                # Throttled requests were not executed, so replaying is always safe.
                if not self._may_retry(call, err.retry_after):
                    self.stats.gave_up += 1
                    raise err
                self.stats.throttled += 1
                await self._wait(call, err.retry_after, f"rate limited (code {code})")
                continue
            if isinstance(err, errors.UpstreamUnavailable):
                await self._trouble(call, f"HTTP {response.status_code}, code {code}", executed=True, error=err)
                continue
            raise err

    def _may_retry(self, call: _Call, wait: float) -> bool:
        elapsed = self.clock.monotonic() - call.started
        return call.attempts < self.policy.max_attempts and elapsed + wait <= self.policy.deadline

    async def _wait(self, call: _Call, seconds: float, why: str) -> None:
        log.info("%s: %s; retrying in %.2f s (attempt %d)", call.operation, why, seconds, call.attempts)
        self.stats.waited += seconds
        await self.clock.sleep(seconds)

    async def _trouble(
        self, call: _Call, what: str, *, executed: bool, error: errors.FeishuError | None = None
    ) -> None:
        """After a failure that may (``executed``) or did not reach Feishu: back off, or raise."""
        if executed:
            call.outcome.unanswered.append(self.clock.monotonic())
        if executed and call.writes and not call.replayable:
            self.stats.gave_up += 1
            raise errors.outcome_unknown(call.operation, what, call.log_id)
        delay = self.policy.backoff(call.attempts)
        if not self._may_retry(call, delay):
            code, msg = (error.code, error.msg) if error is not None else (-1, f"network failure ({what})")
            call.maybe_applied |= executed
            why = f"after {call.attempts} attempts"
            if call.attempts < self.policy.max_attempts:
                why += f", with no time left to retry within the {self.policy.deadline:g} s deadline for one call"
            raise self._gave_up(call, code, f"{msg} {why}")
        if executed:
            call.maybe_applied = True
            self.stats.replays += 1
        await self._wait(call, delay, what)

    def _gave_up(self, call: _Call, code: int, msg: str) -> errors.FeishuError:
        """The error for a call that ran out of attempts or time without a definite answer."""
        self.stats.gave_up += 1
        log.warning("%s: giving up after %d attempts (%s)", call.operation, call.attempts, msg)
        if call.maybe_applied and call.writes and not call.replayable:
            return errors.outcome_unknown(call.operation, msg, call.log_id)
        err = errors.UpstreamUnavailable(call.operation, code, msg, call.log_id, advice=_retry_advice(call))
        if call.unreachable:
            err.details.append(errors.unreachable(str(self.http.base_url), call.unreachable))
            err.advice += "; if it keeps failing, check that address and this machine's network"
        return err


def _retry_advice(call: _Call) -> str:
    """What a model can do after the retries ran out, given what may already have happened."""
    if not call.writes:
        return "Feishu is unavailable right now; retry this call in a minute"
    if not call.maybe_applied:
        return "nothing was changed; retry this call in a minute"
    if call.replay is Replay.KEYED:
        return (
            f"the event may or may not have been created. Call {call.operation} again with the same "
            f'arguments plus idempotency_key="{call.idempotency_key}": if it was created, Feishu returns '
            "that event instead of creating a second one"
        )
    if call.replay is Replay.DELETE:
        return "it may already be done; call it again in a minute: if it was already removed, that reports success"
    return (
        "the change may or may not have been applied; calling again with the same arguments in a minute "
        "is safe (it leaves the same state)"
    )


def _code(envelope: dict[str, Any] | None) -> int:
    """Feishu's code as an int; -1 when missing or not a number (never a crash on a bad reply)."""
    if envelope is None:
        return -1
    try:
        return int(envelope.get("code", -1))
    except (TypeError, ValueError):
        return -1
