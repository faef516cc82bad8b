"""Fault injection, the built-in rate limit, and the admin routes."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest

from sandbox import DEMO_PRIMARY_CALENDAR_ID, Sandbox, running
from tests.sandbox.helpers_sandbox import FIXED_NOW, WEEK_START, bearer, events_path, fails, ok, timed

pytestmark = pytest.mark.anyio

PRIMARY = "/open-apis/calendar/v4/calendars/primary"


async def test_rate_limit_fault_is_429_with_feishu_headers(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.inject("rate_limit", times=1, retry_after=3)
    limited = await api.post(PRIMARY)
    assert limited.status_code == 429 and limited.json()["code"] == 99991400
    assert limited.headers["x-ogw-ratelimit-limit"] == "50" and limited.headers["x-ogw-ratelimit-reset"] == "3"
    assert limited.headers["x-tt-logid"]
    assert (await api.post(PRIMARY)).json()["code"] == 0  # times=1: only the first
    assert sb.log[0].fault == "rate_limit" and sb.log[0].status == 429 and sb.log[1].fault is None


async def test_server_errors_match_method_and_path(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.inject("server_error", status=500, method="GET", path="/events")
    sb.faults.inject("server_error", status=502, method="POST", path="/events")
    broken = await api.get(events_path())
    assert broken.status_code == 500 and broken.json()["code"] == 190003
    gateway = await api.post(events_path(), json=timed(WEEK_START, WEEK_START + 60))
    assert gateway.status_code == 502 and gateway.headers["content-type"].startswith("text/plain")
    assert (await api.post(PRIMARY)).json()["code"] == 0  # other paths unaffected
    sb.faults.clear()
    assert (await api.get(events_path())).status_code == 200


async def test_drop_before_or_after_the_write(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    body = timed(WEEK_START, WEEK_START + 600, summary="Lost reply")
    before = len(sb.world.events)
    sb.faults.inject("drop", times=1, method="POST", path="/events")
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.post(events_path(), json=body)
    assert len(sb.world.events) == before  # dropped before the write
    sb.faults.inject("drop", times=1, method="POST", path="/events", after_write=True)
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.post(events_path(), json=body)
    assert len(sb.world.events) == before + 1  # the write happened, the answer was lost
    assert sb.log[-1].fault == "drop"


async def test_connect_error_never_reaches_the_routes(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.inject("connect_error", times=2)
    for _ in range(2):
        with pytest.raises(httpx2.ConnectError):
            await api.post(PRIMARY)
    assert (await api.post(PRIMARY)).json()["code"] == 0


async def test_token_expired_fault_expires_the_callers_token(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.inject("token_expired", times=1)
    fails(await api.post(PRIMARY), 99991677)
    fails(await api.post(PRIMARY), 99991677)  # it stays expired: the client must refresh
    fresh = sb.issue_user_token(sb.demo_user.open_id)
    assert ok(await api.post(PRIMARY, headers=bearer(fresh)))


async def test_slow_on_the_sandbox_clock_or_for_real(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.inject("slow", times=1, delay=3600, use_clock=True)
    ok(await api.post(PRIMARY))
    assert sb.clock.now() == FIXED_NOW + 3600
    sb.faults.inject("slow", times=1, delay=0.2)
    started = time.monotonic()
    ok(await api.post(PRIMARY))
    assert time.monotonic() - started >= 0.2


async def test_probability_uses_the_seeded_rng() -> None:
    def outcomes(seed: int) -> list[int]:
        sandbox = Sandbox(seed=False, fault_seed=seed)
        sandbox.faults.inject("server_error", probability=0.5)
        return [1 if sandbox.faults.take("GET", "/x") else 0 for _ in range(40)]

    assert outcomes(7) == outcomes(7)
    assert 5 < sum(outcomes(7)) < 35 and outcomes(7) != outcomes(8)
    with pytest.raises(ValueError, match="unknown fault kind"):
        Sandbox(seed=False).faults.inject("meteor")


async def test_builtin_rate_limit_per_app_and_api(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.faults.rate_limit_per_second = 50
    codes = [(await api.post(PRIMARY)).json()["code"] for _ in range(51)]
    assert codes[:50] == [0] * 50 and codes[50] == 99991400
    assert (await api.get(events_path())).json()["code"] == 0  # another API has its own budget
    sb.faults.rate_limit_per_second = 2
    sb.advance(1.0)
    one, other = f"{events_path()}/a_0", f"{events_path()}/b_0"
    codes = [(await api.get(path)).json()["code"] for path in (one, other, one)]
    assert codes == [193001, 193001, 99991400]  # one API however many event ids
    sb.faults.rate_limit_per_second, sb.faults.rate_limit_per_minute = None, 3
    sb.advance(60.0)
    replies = []
    for _ in range(4):
        replies.append(await api.get(events_path()))
        sb.advance(10.0)
    assert [r.json()["code"] for r in replies] == [0, 0, 0, 99991400]
    assert replies[-1].headers["x-ogw-ratelimit-reset"] == "30"  # the first of the minute leaves in 30 s
    sb.faults.rate_limit_per_minute = None
    sb.advance(1.0)
    assert (await api.post(PRIMARY)).json()["code"] == 0


def test_admin_routes_exist_only_when_enabled() -> None:
    plain = Sandbox(seed=True)
    with running(plain) as base_url, httpx2.Client(base_url=base_url) as http:
        assert http.post("/_sandbox/expire_tokens").status_code == 404

    sb = Sandbox(seed=True, admin=True)
    auth = bearer(sb.demo_token)
    with running(sb) as base_url, httpx2.Client(base_url=base_url, headers=auth) as http:
        added = http.post("/_sandbox/faults", json={"kind": "rate_limit", "times": 1}).json()
        assert added["result"]["kind"] == "rate_limit"
        assert http.post(PRIMARY).status_code == 429
        assert http.post(PRIMARY).status_code == 200
        log = http.get("/_sandbox/log").json()["result"]
        assert [e["status"] for e in log if e["path"] == PRIMARY] == [429, 200]
        assert all(sb.demo_token not in str(e["headers"]) for e in log)
        assert http.post("/_sandbox/faults", json={"kind": "nonsense"}).status_code == 400
        assert http.post("/_sandbox/faults", json={"kind": "slow", "times": "twice"}).status_code == 400
        assert http.post(PRIMARY).status_code == 200  # the refused rule was not added
        http.post("/_sandbox/expire_tokens")
        assert http.post(PRIMARY).json()["code"] == 99991677
        http.post("/_sandbox/reset")
        assert http.post(PRIMARY, headers=bearer(sb.demo_token)).json()["code"] == 0


def test_drop_over_a_real_socket_closes_the_connection() -> None:
    sb = Sandbox(seed=True)
    sb.faults.inject("drop", times=1)
    with running(sb) as base_url, httpx2.Client(base_url=base_url, headers=bearer(sb.demo_token)) as http:
        with pytest.raises(httpx2.TransportError):
            http.post(PRIMARY)
        assert http.post(PRIMARY).json()["data"]["calendars"][0]["calendar"]["calendar_id"] == DEMO_PRIMARY_CALENDAR_ID


def test_injected_drops_leave_no_traceback_in_the_server_log() -> None:
    import logging

    from sandbox.faults import ConnectionDropped

    with running(Sandbox(seed=False)):
        pass  # installs the filter on uvicorn's error logger, as serve() does
    logger = logging.getLogger("uvicorn.error")

    def record(exc: BaseException) -> logging.LogRecord:
        exc_info = (type(exc), exc, None)
        return logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "Exception in ASGI app", (), exc_info)

    assert not logger.filter(record(ConnectionDropped()))
    assert logger.filter(record(RuntimeError("a real bug")))


async def test_trailing_slash_is_an_unknown_path_not_a_redirect() -> None:
    sb = Sandbox(seed=True)
    async with sb.client(headers={"Authorization": f"Bearer {sb.demo_token}"}) as http:
        answer = await http.post("/open-apis/calendar/v4/calendars/primary/")
    assert answer.status_code == 404 and answer.json()["code"] == 99991201


async def _new_event(api: httpx2.AsyncClient, summary: str) -> str:
    created = await api.post(events_path(), json=timed(WEEK_START, WEEK_START + 600, summary=summary))
    return str(ok(created)["event"]["event_id"])


async def _summary(api: httpx2.AsyncClient, event_id: str) -> str:
    return str(ok(await api.get(f"{events_path()}/{event_id}"))["event"]["summary"])


async def test_a_late_request_runs_after_the_client_gave_up_and_undoes_a_newer_write(
    sb: Sandbox, api: httpx2.AsyncClient
) -> None:
    event_id = await _new_event(api, "v0")
    sb.faults.inject("late", times=1, method="PATCH", delay=0, late_by=2)
    with pytest.raises(httpx2.RemoteProtocolError):  # no answer: the client cannot know
        await api.patch(f"{events_path()}/{event_id}", json={"summary": "v1"})
    assert await _summary(api, event_id) == "v0"  # held back: not run yet (1st request after it)
    ok(await api.patch(f"{events_path()}/{event_id}", json={"summary": "v2"}))  # 2nd: the stale one runs first
    assert await _summary(api, event_id) == "v2"
    assert [(r.method, r.status, r.code) for r in sb.faults.late_runs] == [("PATCH", 200, 0)]
    assert sb.log.matching("PATCH")[0].fault == "late"


async def test_a_late_request_can_land_after_the_newer_write(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await _new_event(api, "v0")
    sb.faults.inject("late", times=1, method="PATCH", delay=0, late_by=3)
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.patch(f"{events_path()}/{event_id}", json={"summary": "v1"})
    ok(await api.patch(f"{events_path()}/{event_id}", json={"summary": "v2"}))
    assert await _summary(api, event_id) == "v2"
    assert await _summary(api, event_id) == "v1"  # the stale write ran before this 3rd request
    assert len(sb.faults.late_runs) == 1


async def test_run_late_runs_what_is_held_and_clear_forgets_it(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await _new_event(api, "v0")
    sb.faults.inject("late", method="PATCH", delay=0, late_by=100)
    for summary in ("v1", "v2"):
        with pytest.raises(httpx2.RemoteProtocolError):
            await api.patch(f"{events_path()}/{event_id}", json={"summary": summary})
    assert await sb.run_late() == 2
    assert await _summary(api, event_id) == "v2"
    sb.faults.inject("late", times=1, method="PATCH", delay=0)
    with pytest.raises(httpx2.RemoteProtocolError):
        await api.patch(f"{events_path()}/{event_id}", json={"summary": "v3"})
    sb.faults.clear()
    assert await _summary(api, event_id) == "v2"  # a cleared fault's held request never runs
    assert sb.faults.late_runs == []


async def test_a_late_request_outlives_a_client_timeout(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    event_id = await _new_event(api, "v0")
    sb.faults.inject("late", times=1, method="PATCH", delay=30)
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.05):  # the client gives up long before the stall ends
            await api.patch(f"{events_path()}/{event_id}", json={"summary": "v1"})
    assert await _summary(api, event_id) == "v1"  # ran just before the next request


def test_late_by_must_be_positive(sb: Sandbox) -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="late_by"):
            sb.faults.inject("late", late_by=bad)  # type: ignore[arg-type]


def test_a_late_request_over_a_real_socket_runs_after_the_client_timed_out() -> None:
    sb = Sandbox(seed=True, admin=True)
    with running(sb) as base_url, httpx2.Client(base_url=base_url, headers=bearer(sb.demo_token)) as http:
        created = http.post(events_path(), json=timed(WEEK_START, WEEK_START + 600, summary="v0"))
        event_id = ok(created)["event"]["event_id"]
        http.post("/_sandbox/faults", json={"kind": "late", "times": 1, "method": "PATCH", "delay": 0.5})
        with pytest.raises(httpx2.ReadTimeout):  # a real read timeout: the server holds the request
            http.patch(f"{events_path()}/{event_id}", json={"summary": "v1"}, timeout=0.1)
        assert ok(http.get(f"{events_path()}/{event_id}"))["event"]["summary"] == "v1"  # ran just before
