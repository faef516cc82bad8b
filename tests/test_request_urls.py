"""The Feishu client builds each request's URL as one string, query included: the same URL httpx2's
``params`` gave, so every request goes out byte for byte as before (server/feishu_client.py)."""

from __future__ import annotations

import httpx2
import pytest

from server.feishu_client import FeishuClient
from server.paths import fill_route
from server.tokens import StaticToken

pytestmark = pytest.mark.anyio

ORIGIN = "https://open.feishu.cn"
ROUTE = "/open-apis/calendar/v4/calendars/{calendar_id}/events"
# Page and sync tokens are opaque: every character that means something in a URL, and text.
QUERIES: list[list[tuple[str, str]]] = [
    [],
    [("page_size", "50")],
    [("page_token", "a+b/c=d&e#f?g%h i"), ("page_size", "1000")],
    [("sync_token", "周会;,:@!$'()*[]~"), ("user_id_type", "open_id")],
    [("attendee_ids", "user_1"), ("attendee_ids", "user_2"), ("empty", "")],
    [("start_time", "1795417200"), ("end_time", "1795503600"), ("anchor_time", "1795417200")],
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("calendar_id", ["feishu.cn_abc@group.calendar.feishu.cn", "primary", "日历_1@x"])
async def test_the_url_with_its_query_is_the_one_params_gave(calendar_id: str, query: list[tuple[str, str]]) -> None:
    seen: list[httpx2.Request] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"code": 0, "msg": "ok", "data": {}})

    async with httpx2.AsyncClient(base_url=ORIGIN, transport=httpx2.MockTransport(upstream)) as http:
        path = fill_route(ROUTE, {"calendar_id": calendar_id})
        await FeishuClient(http, StaticToken("u-test")).call("list_events", "GET", path, query=query)
        before = http.build_request("GET", ORIGIN + path, params=tuple(query) if query else None)
    assert len(seen) == 1
    assert seen[0].url == before.url
    assert seen[0].url.raw_path == before.url.raw_path and str(seen[0].url) == str(before.url)
    assert seen[0].url.params.multi_items() == query
