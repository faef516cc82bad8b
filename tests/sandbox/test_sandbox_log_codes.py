"""The request log's code is the reply's envelope code, whoever answered (a route, the gateway, a fault).

api_route hands the code to the middleware instead of the middleware parsing each body again; the
replies no route of api_route's answers are still read from the body.
"""

from __future__ import annotations

import httpx2
import pytest
import uvicorn

from sandbox import Sandbox
from sandbox.app import SERVED_LOG_LIMIT, serve
from tests.sandbox.helpers_sandbox import events_path

pytestmark = pytest.mark.anyio


async def test_each_logged_code_is_the_code_its_reply_carried(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    replies = [
        await api.get(events_path(), params={"page_size": 50}),  # 0
        await api.get(events_path(), params={"page_size": 1}),  # the gateway's 99992402
        await api.get(events_path() + "/nobody_0"),  # the calendar service's 193001
        await api.get("/open-apis/no/such/path"),  # Starlette's 404 handler: 99991201
        await api.post("/open-apis/authen/v2/oauth/token", json={}),  # the token endpoint's own form
        await api.get(events_path(), headers={"Authorization": ""}),  # 99991661 before any handler
    ]
    sb.faults.inject("server_error", status=500, times=1)
    replies.append(await api.get(events_path()))  # the fault's 190003
    sb.faults.rate_limit_per_second = 1
    replies += [await api.get(events_path()), await api.get(events_path())]  # the limiter's 99991400
    codes = [reply.json()["code"] for reply in replies]
    assert [entry.code for entry in sb.log] == codes
    assert codes == [0, 99992402, 193001, 99991201, 20001, 99991661, 190003, 0, 99991400]


async def test_a_served_sandbox_keeps_only_its_newest_requests(
    sb: Sandbox, api: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One left running for days must not grow by ~1.8 KB a request; in-process (tests) it keeps all."""
    in_process = sb.log.limit
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    serve(sb)
    assert in_process is None and sb.log.limit == SERVED_LOG_LIMIT
    sb.log.limit = 3
    for size in range(50, 60):
        await api.get(events_path(), params={"page_size": size})
        assert len(sb.log) < 2 * 3
    sizes = [entry.query["page_size"] for entry in sb.log]
    assert sizes[-3:] == ["57", "58", "59"] and sizes == [str(n) for n in range(60 - len(sizes), 60)]
