"""The server's own Feishu client against injected faults: the sandbox models what it must survive."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import Sandbox
from server import errors
from server.clock import VirtualClock
from server.feishu_client import FeishuClient
from server.tokens import StaticToken
from tests.sandbox.helpers_sandbox import HOUR, WEEK_START, events_path, timed
from tools.spec import Replay

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[tuple[FeishuClient, VirtualClock]]:
    """The server's client on the sandbox's own clock (one clock: its waits age the sandbox too)."""
    assert isinstance(sb.clock, VirtualClock)
    async with sb.client() as http:
        yield FeishuClient(http, StaticToken(sb.demo_token), clock=sb.clock), sb.clock


async def test_a_lost_reply_to_a_keyed_create_is_replayed_into_the_same_event(
    sb: Sandbox, client: tuple[FeishuClient, VirtualClock]
) -> None:
    feishu, _ = client
    before = len(sb.world.events)
    sb.faults.inject("drop", times=1, method="POST", path="/events", after_write=True)
    data = await feishu.call(
        "create_event",
        "POST",
        events_path(),
        query=[("idempotency_key", "f" * 32)],
        body=timed(WEEK_START, WEEK_START + HOUR, summary="Exactly once"),
        replay=Replay.KEYED,
    )
    assert data["event"]["summary"] == "Exactly once"
    assert len(sb.world.events) == before + 1  # the replay found the first attempt's event
    assert [e.fault for e in sb.log.matching("POST", "/events")] == ["drop", None]


async def test_rate_limits_are_waited_out_as_feishu_asks(
    sb: Sandbox, client: tuple[FeishuClient, VirtualClock]
) -> None:
    feishu, clock = client
    sb.faults.inject("rate_limit", times=2, retry_after=2)
    data = await feishu.call("list_events", "GET", events_path(), query=[("page_size", "50")])
    assert data["items"]
    assert clock.sleeps == [2.0, 2.0]
    assert [e.status for e in sb.log] == [429, 429, 200]


async def test_a_feishu_error_names_the_log_id_feishu_gave_it(
    sb: Sandbox, client: tuple[FeishuClient, VirtualClock]
) -> None:
    feishu, _ = client
    with pytest.raises(errors.NotFound) as raised:
        await feishu.call("get_event", "GET", events_path() + "/nosuchevent_0")
    logid = sb.log[-1].logid
    assert raised.value.log_id == logid  # X-Tt-Logid, which the body's error.log_id repeats
    assert f"(Feishu log id: {logid})" in str(raised.value)
