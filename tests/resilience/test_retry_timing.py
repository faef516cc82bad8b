"""Retry timing on a virtual clock: Feishu's reset header is honoured exactly, waits are bounded."""

from __future__ import annotations

import random

import httpx2
import pytest
from mcp import Client

from server import errors
from server.app import build_server
from server.clock import VirtualClock
from server.retry import RetryPolicy, rate_limit_wait
from server.settings import Settings
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.upstream import Upstream, client_for, reply

pytestmark = pytest.mark.anyio
ROUTE = "/open-apis/calendar/v4/calendars/cal_1@x/events/e_0"


def throttled(
    seconds: str, *, code: int = 99991400, status: int = 429, header: str = "x-ogw-ratelimit-reset"
) -> httpx2.Response:
    return reply(code, status=status, msg="too many requests", headers={header: seconds, "x-tt-logid": "L429"})


@pytest.mark.parametrize(
    ("code", "status", "header"),
    [
        (99991400, 429, "x-ogw-ratelimit-reset"),
        (99991400, 400, "x-ogw-ratelimit-reset"),  # the legacy APIs' 400 spelling
        (190004, 429, "x-ogw-ratelimit-reset"),
        (190005, 429, "Retry-After"),
        (190010, 429, "X-Ogw-Ratelimit-Reset"),  # header names are case-insensitive
    ],
)
async def test_waits_exactly_what_feishu_says_then_replays(code: int, status: int, header: str) -> None:
    clock = VirtualClock()
    upstream = Upstream(throttled("7", code=code, status=status, header=header), reply(0, {"event": {"id": 1}}))
    client = client_for(upstream, clock)
    async with client.http:
        data = await client.call("get_event", "GET", ROUTE)
    assert data == {"event": {"id": 1}}
    assert clock.sleeps == [7.0]
    assert len(upstream.requests) == 2
    assert client.stats.throttled == 1


async def test_reset_header_wins_over_retry_after() -> None:
    clock = VirtualClock()
    both = reply(99991400, status=429, headers={"x-ogw-ratelimit-reset": "3", "Retry-After": "30"})
    client = client_for(Upstream(both, reply(0)), clock)
    async with client.http:
        await client.call("get_event", "GET", ROUTE)
    assert clock.sleeps == [3.0]


async def test_consecutive_throttles_each_wait_their_own_reset() -> None:
    clock = VirtualClock()
    upstream = Upstream(throttled("2"), throttled("5"), throttled("1"), reply(0))
    client = client_for(upstream, clock, max_attempts=4)
    async with client.http:
        await client.call("update_event", "PATCH", ROUTE, body={"summary": "x"})
    assert clock.sleeps == [2.0, 5.0, 1.0]
    assert clock.now() == 8.0


async def test_a_wait_past_the_deadline_is_not_slept_but_reported() -> None:
    clock = VirtualClock()
    client = client_for(Upstream(throttled("20"), throttled("20"), throttled("20")), clock, deadline=50)
    async with client.http:
        with pytest.raises(errors.RateLimited) as caught:
            await client.call("get_event", "GET", ROUTE)
    assert clock.sleeps == [20.0, 20.0]  # a third 20 s wait would end after 60 s > 50 s
    assert caught.value.retry_after == 20.0
    message = str(caught.value)
    assert "retry after 20 s" in message
    assert "L429" in message


async def test_attempts_are_bounded() -> None:
    clock = VirtualClock()
    upstream = Upstream(default=throttled("1"))
    client = client_for(upstream, clock, max_attempts=3)
    async with client.http:
        with pytest.raises(errors.RateLimited):
            await client.call("get_event", "GET", ROUTE)
    assert len(upstream.requests) == 3
    assert clock.sleeps == [1.0, 1.0]


async def test_server_errors_back_off_exponentially_with_full_jitter() -> None:
    clock = VirtualClock()
    upstream = Upstream(default=httpx2.Response(503, text="<html>busy</html>"))
    policy = {"max_attempts": 6, "base_delay": 0.5, "max_delay": 3.0, "rng": random.Random(7)}
    client = client_for(upstream, clock, **policy)
    async with client.http:
        with pytest.raises(errors.UpstreamUnavailable) as caught:
            await client.call("get_event", "GET", ROUTE)
    assert len(upstream.requests) == 6
    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0]
    assert len(clock.sleeps) == 5
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))
    expected = random.Random(7)
    assert clock.sleeps == [expected.uniform(0, c) for c in ceilings]  # the jitter is the policy's rng
    assert "503" in str(caught.value)
    assert "retry this call in a minute" in str(caught.value)


async def test_quota_exhaustion_is_not_waited_for() -> None:
    clock = VirtualClock()
    upstream = Upstream(reply(99991403, status=429, headers={"x-ogw-ratelimit-reset": "5"}))
    client = client_for(upstream, clock)
    async with client.http:
        with pytest.raises(errors.FeishuError) as caught:
            await client.call("get_event", "GET", ROUTE)
    assert not isinstance(caught.value, errors.RateLimited)
    assert clock.sleeps == []
    assert "quota" in str(caught.value)


def test_reset_header_parsing() -> None:
    headers = httpx2.Headers({"X-Ogw-Ratelimit-Reset": "2.5"})
    assert rate_limit_wait(headers, 9) == 2.5
    assert rate_limit_wait(httpx2.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), 9) == 9
    assert rate_limit_wait(httpx2.Headers({"x-ogw-ratelimit-reset": "-1"}), 9) == 9
    assert rate_limit_wait(httpx2.Headers({"x-ogw-ratelimit-reset": "nan"}), 9) == 9
    assert rate_limit_wait(httpx2.Headers(), 4) == 4


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=5, rng=random.Random(1))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 5), (9, 5)]:
        assert all(0 <= policy.backoff(attempt) <= ceiling for _ in range(50))


def test_the_policy_comes_from_settings_and_the_environment() -> None:
    env = {"FEISHU_MAX_ATTEMPTS": "6", "FEISHU_CALL_DEADLINE": "45", "FEISHU_READ_TIMEOUT": "7"}
    policy = RetryPolicy.from_settings(Settings.load(env, connect_timeout=2))
    assert (policy.max_attempts, policy.deadline, policy.read_timeout, policy.connect_timeout) == (6, 45, 7, 2)
    assert policy.attempt_timeout(remaining=100) == 9  # connect + read
    assert policy.attempt_timeout(remaining=3) == 3  # never past the call's deadline


async def test_all_requests_of_one_tool_call_share_its_deadline() -> None:
    """The create waits 6 s; the overlap check after it may not wait another 6 s past 10 s."""
    clock = VirtualClock()
    seen: list[str] = []

    def feishu(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.method)
        if len(seen) in (1, 3):  # the create's first try, and the overlap check's
            return throttled("6")
        if request.method == "POST":
            event = {"event_id": "e_0", "start_time": {"timestamp": "1795417200"}}
            return reply(0, {"event": {**event, "end_time": {"timestamp": "1795420800"}}})
        return reply(0, {"items": []})

    server = build_server(
        all_tools_settings(call_deadline=10), StaticToken("u-test"), transport=httpx2.MockTransport(feishu), clock=clock
    )
    arguments = {"calendar_id": "cal_1@x", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"}
    async with Client(server) as client:
        result = await client.call_tool("create_event", arguments)
    assert not result.is_error
    assert clock.sleeps == [6.0]  # the overlap check's 6 s would end at 12 s > 10 s
    assert seen == ["POST", "POST", "GET"]
    assert result.structured_content is not None
    assert "could not check for overlaps" in result.structured_content["warnings"]
