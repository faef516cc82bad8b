"""The per-operation replay table, exercised through the MCP client against a scripted Feishu."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client

from server.app import build_server
from server.clock import VirtualClock
from tests.helpers import all_tools_settings
from tests.resilience.upstream import Upstream, reply, server_for, text
from tools import OPERATIONS
from tools.spec import Replay

OPERATIONS_BY_NAME = {op.name: op for op in OPERATIONS}

pytestmark = pytest.mark.anyio
CAL = {"calendar_id": "cal_1@x"}
EVENT = {**CAL, "event_id": "e1_0"}
NEW_EVENT = {**CAL, "summary": "Sync", "start": "2026-11-23T15:00:00+08:00", "end": "2026-11-23T16:00:00+08:00"}
CREATED = reply(0, {"event": {"event_id": "e1_0", "summary": "Sync"}})


def lost() -> httpx2.ReadError:
    """The request went out; the answer never came back (it may have been executed)."""
    return httpx2.ReadError("connection reset by peer")


async def call(upstream: Upstream, tool: str, arguments: dict[str, Any], **settings: Any) -> Any:
    async with Client(server_for(upstream, VirtualClock(), **settings)) as client:
        return await client.call_tool(tool, arguments)


async def test_create_is_replayed_with_the_same_generated_idempotency_key() -> None:
    upstream = Upstream(lost(), httpx2.Response(502, text="bad gateway"), CREATED)
    result = await call(upstream, "create_event", NEW_EVENT)
    assert not result.is_error, text(result)
    keys = {r.url.params["idempotency_key"] for r in upstream.requests}
    assert len(upstream.requests) == 3
    assert len(keys) == 1
    assert len(keys.pop()) >= 32


async def test_each_create_call_gets_its_own_key() -> None:
    upstream = Upstream(CREATED, CREATED)
    async with Client(server_for(upstream, VirtualClock())) as client:
        await client.call_tool("create_event", NEW_EVENT)
        await client.call_tool("create_event", NEW_EVENT)
    first, second = (r.url.params["idempotency_key"] for r in upstream.requests)
    assert first != second


async def test_a_create_that_gave_up_names_the_key_to_retry_with() -> None:
    upstream = Upstream(default=lost())
    result = await call(upstream, "create_event", NEW_EVENT, max_attempts=3)
    assert result.is_error
    key = upstream.requests[0].url.params["idempotency_key"]
    message = text(result)
    assert f'idempotency_key="{key}"' in message
    assert "may or may not have been created" in message
    # Following the advice creates nothing new: the same key goes out again.
    retry = Upstream(CREATED)
    again = await call(retry, "create_event", {**NEW_EVENT, "idempotency_key": key})
    assert not again.is_error
    assert retry.requests[0].url.params["idempotency_key"] == key


async def test_a_create_throttled_after_a_lost_answer_still_names_its_key() -> None:
    throttled = reply(99991400, status=429, headers={"x-ogw-ratelimit-reset": "2"})
    upstream = Upstream(lost(), throttled, throttled)
    result = await call(upstream, "create_event", NEW_EVENT, max_attempts=3)
    assert result.is_error
    message = text(result)
    key = upstream.requests[0].url.params["idempotency_key"]
    assert "retry after 2 s" in message
    assert f'idempotency_key="{key}"' in message


async def test_the_models_own_key_is_kept_across_replays() -> None:
    key = "k" * 40
    upstream = Upstream(lost(), CREATED)
    result = await call(upstream, "create_event", {**NEW_EVENT, "idempotency_key": key})
    assert not result.is_error
    assert [r.url.params["idempotency_key"] for r in upstream.requests] == [key, key]


@pytest.mark.parametrize(
    ("tool", "arguments", "check"),
    [
        ("create_meeting_chat", EVENT, "call create_meeting_chat again for event_id=e1_0"),
        ("create_meeting_minutes", EVENT, "call create_meeting_minutes again for event_id=e1_0"),
        ("generate_caldav_config", {}, "call generate_caldav_config again"),
        ("create_exchange_binding", {"exchange_account": "a@b.c"}, "call create_exchange_binding again"),
        (
            "create_exchange_binding",
            {"admin_account": "x@b.c", "exchange_account": "a@b.c"},
            'call get_exchange_binding with exchange_binding_id="eEBiLmMgYUBiLmM="',
        ),
    ],
)
async def test_unsafe_writes_are_not_replayed_and_say_how_to_check(
    tool: str, arguments: dict[str, Any], check: str
) -> None:
    for failure in (lost(), httpx2.Response(500, json={"code": 190003, "msg": "internal"})):
        upstream = Upstream(failure, reply(0, {"meeting_chat_id": "oc_2"}))
        result = await call(upstream, tool, arguments)
        assert result.is_error
        assert len(upstream.requests) == 1, f"{tool} was replayed after {failure!r}"
        message = text(result)
        assert "may or may not have been made" in message
        assert check in message


async def test_unsafe_writes_are_retried_when_nothing_reached_feishu() -> None:
    upstream = Upstream(httpx2.ConnectError("refused"), reply(99991400, status=429), reply(0, {"doc_url": "u"}))
    result = await call(upstream, "create_meeting_minutes", EVENT)
    assert not result.is_error, text(result)
    assert len(upstream.requests) == 3


@pytest.mark.parametrize(
    ("tool", "arguments", "gone"),
    [
        ("delete_event", EVENT, 193003),
        ("delete_event", EVENT, 193001),
        ("remove_attendees", {**EVENT, "attendee_ids": ["user_1"]}, 194000),
        ("unbind_meeting_chat", {**EVENT, "meeting_chat_id": "oc_1"}, 195108),
        ("delete_exchange_binding", {"exchange_binding_id": "ZXhj"}, 195103),
    ],
)
async def test_already_gone_after_a_replay_is_success(tool: str, arguments: dict[str, Any], gone: int) -> None:
    upstream = Upstream(lost(), reply(gone, status=404, msg="already deleted"))
    result = await call(upstream, tool, arguments)
    assert not result.is_error, text(result)
    assert len(sent_writes(tool, upstream)) == 2


def sent_writes(tool: str, upstream: Upstream) -> list[httpx2.Request]:
    """The tool's own requests; a write verified by reading back must have ended with that GET."""
    if OPERATIONS_BY_NAME[tool].read_back is None:
        return upstream.requests
    *writes, read_back = upstream.requests
    assert read_back.method == "GET", f"{tool} was not read back after its unanswered request"
    return writes


async def test_a_delete_that_gave_up_is_settled_by_the_advised_repeat() -> None:
    upstream = Upstream(lost(), lost(), reply(193003, status=403, msg="event deleted"))
    async with Client(server_for(upstream, VirtualClock(), max_attempts=2)) as client:
        first = await client.call_tool("delete_event", EVENT)
        assert first.is_error
        assert "if it was already removed, that reports success" in text(first)
        second = await client.call_tool("delete_event", EVENT)  # what the advice says to do
    assert not second.is_error, text(second)
    assert len(upstream.requests) == 3


async def test_a_delete_throttled_after_a_lost_answer_is_settled_too() -> None:
    throttled = reply(99991400, status=429, headers={"x-ogw-ratelimit-reset": "1"})
    upstream = Upstream(lost(), throttled, reply(193003, status=403, msg="event deleted"))
    async with Client(server_for(upstream, VirtualClock(), max_attempts=2)) as client:
        first = await client.call_tool("delete_event", EVENT)
        assert first.is_error
        assert "retry after 1 s" in text(first)
        assert "it may already be done" in text(first)
        second = await client.call_tool("delete_event", EVENT)
    assert not second.is_error, text(second)


async def test_already_gone_on_the_first_try_is_still_reported() -> None:
    upstream = Upstream(reply(193003, status=403, msg="event deleted", headers={"x-tt-logid": "L1"}))
    result = await call(upstream, "delete_event", EVENT)
    assert result.is_error
    assert "193003" in text(result)
    assert "L1" in text(result)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("update_event", {**EVENT, "summary": "Renamed"}),
        ("reply_event", {**EVENT, "rsvp_status": "accept"}),
        ("add_attendees", {**EVENT, "attendees": [{"type": "user", "user_id": "ou_1"}]}),
        ("subscribe_events", CAL),
        ("get_event", EVENT),
    ],
)
async def test_idempotent_operations_are_replayed(tool: str, arguments: dict[str, Any]) -> None:
    # What a read-back finds: the event renamed, ou_1 invited (the writes above did land).
    landed = reply(
        0, {"event": {"event_id": "e1_0", "summary": "Renamed"}, "items": [{"type": "user", "user_id": "ou_1"}]}
    )
    upstream = Upstream(lost(), httpx2.Response(503, text="busy"), landed, default=landed)
    result = await call(upstream, tool, arguments)
    assert not result.is_error, text(result)
    writes = sent_writes(tool, upstream)
    assert len(writes) == 3
    assert len({(r.method, r.url.path, r.content) for r in writes}) == 1  # the same request


async def test_a_refused_token_is_refreshed_once_not_counted_as_an_attempt() -> None:
    upstream = Upstream(reply(99991677, status=401, msg="token expired"))
    result = await call(upstream, "get_event", EVENT)
    # StaticToken cannot refresh: the model is told to sign in, and nothing was retried blindly.
    assert result.is_error
    assert "feishu-calendar-mcp login" in text(result)
    assert len(upstream.requests) == 1


class RotatingTokens:
    identity = "rotating"

    def __init__(self) -> None:
        self.issued = ["u-0"]

    async def access_token(self) -> str:
        return self.issued[-1]

    async def refresh_after_rejection(self, rejected: str) -> str:
        self.issued.append(f"u-{len(self.issued)}")
        return self.issued[-1]


async def test_a_refreshed_token_refused_again_is_refreshed_again_within_the_attempts() -> None:
    expired = reply(99991677, status=400, msg="user access token expired")
    upstream = Upstream(expired, expired, reply(0, {"event": {"event_id": "e1_0"}}))
    tokens = RotatingTokens()
    server = build_server(all_tools_settings(), tokens, transport=upstream.transport(), clock=VirtualClock())
    async with Client(server) as client:
        result = await client.call_tool("get_event", EVENT)
    assert not result.is_error, text(result)
    sent = [r.headers["authorization"] for r in upstream.requests]
    assert sent == ["Bearer u-0", "Bearer u-1", "Bearer u-2"]


def test_every_operation_has_a_coherent_replay_rule() -> None:
    for op in OPERATIONS:
        if op.read_only:
            assert op.replay is Replay.SAFE, op.name
        if op.replay is Replay.KEYED:
            assert "idempotency_key" in op.input_model.model_fields, op.name
        if op.replay is Replay.DELETE:
            assert op.done_after_replay, f"{op.name}: what does 'already gone' look like?"
        if op.replay is Replay.NEVER:
            assert op.outcome_check is not None, f"{op.name}: how does the model settle an unknown outcome?"
        else:
            assert op.outcome_check is None, op.name
