"""GET /calendar/v4/calendars pages as calendar/list.md says: a page may hold fewer calendars than
page_size, or none, while has_more is true; page_token leads on; sync_token comes with the last page."""

from __future__ import annotations

import httpx2
import pytest

from sandbox import DEMO_USER_OPEN_ID, Sandbox
from sandbox.seed import add_shared_calendar
from sandbox.seed_directory import open_id
from tests.sandbox.helpers_sandbox import V4, ok

pytestmark = pytest.mark.anyio


async def test_short_and_empty_pages_while_has_more(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    before = {c["calendar_id"] for c in ok(await api.get(V4 + "/calendars"))["calendar_list"]}
    kept = set(before)
    for n in range(120):
        calendar_id = f"feishu.cn_sandbox0page{n:03d}@group.calendar.feishu.cn"
        calendar = add_shared_calendar(sb, calendar_id, f"Page {n}", open_id("liu0yang"), {DEMO_USER_OPEN_ID: "reader"})
        calendar.is_deleted = 40 <= n < 100  # a whole page's worth deleted in a row
        if not calendar.is_deleted:
            kept.add(calendar_id)
    seen: list[str] = []
    sizes: list[int] = []
    query: dict[str, str] = {"page_size": "50"}
    while True:
        data = ok(await api.get(V4 + "/calendars", params=query))
        sizes.append(len(data["calendar_list"]))
        seen += [c["calendar_id"] for c in data["calendar_list"]]
        assert all(not c["is_deleted"] for c in data["calendar_list"])
        if not data["has_more"]:
            assert data["sync_token"] and "page_token" not in data
            break
        assert "sync_token" not in data
        query = {"page_size": "50", "page_token": data["page_token"]}
    assert sorted(seen) == sorted(kept) and len(seen) == len(set(seen))
    assert 0 in sizes[:-1] and all(size <= 50 for size in sizes)  # an empty page that was not the last
