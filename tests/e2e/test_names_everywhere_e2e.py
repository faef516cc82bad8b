"""Every tool that takes a name settles it the same way (server/choose.py): one match is used;
several are the user's pick where the client can ask (accept, decline, cancel), else a tool
error listing the candidates with what tells them apart. Through the MCP client on the sandbox,
on both protocol eras."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import pytest
from mcp.types import ElicitRequestParams, ElicitResult

from sandbox import DEMO_USER_OPEN_ID, TEAM_CALENDAR_ID, Sandbox
from sandbox.seed import add_shared_calendar
from sandbox.seed_directory import ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID, open_id
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session

pytestmark = pytest.mark.anyio

OTHER_TEAM = "feishu.cn_sandbox0other0team@group.calendar.feishu.cn"
Callback = Callable[[Any, ElicitRequestParams], Any]


@pytest.fixture
def sb() -> Sandbox:
    sb = pinned_sandbox()
    # A second calendar the demo user may write to, also called "Product team".
    add_shared_calendar(sb, OTHER_TEAM, "Product team", open_id("liu0yang"), {DEMO_USER_OPEN_ID: "writer"})
    return sb


@pytest.fixture
async def mcp(sb: Sandbox) -> AsyncIterator[Session]:
    async with session(sb) as s:  # a client without elicitation
        yield s


def picking(asked: list[ElicitRequestParams], *wanted: str) -> Callback:
    """An elicitation answer choosing, for each question field, the label that contains ``wanted``."""

    async def pick(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        fields = params.requested_schema["properties"]  # type: ignore[union-attr]
        content = {f: next(v for v in spec["enum"] if any(w in v for w in wanted)) for f, spec in fields.items()}
        return ElicitResult(action="accept", content=content)

    return pick


def answering(action: Literal["decline", "cancel"]) -> Callback:
    async def answer(context: Any, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action=action)

    return answer


WINDOW = {"start": "2026-11-24", "end": "2026-11-24"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_free_busy_of_zhang_wei_the_user_picks(sb: Sandbox, mode: Literal["auto", "legacy"]) -> None:
    asked: list[ElicitRequestParams] = []
    async with session(sb, picking(asked, "Beijing"), mode=mode) as mcp:
        result = await mcp.call("get_free_busy", people=["Zhang Wei", "Li Lei"], **WINDOW)
        (batch,) = mcp.sent("/freebusy/batch")
    assert len(asked) == 1 and '"Zhang Wei"' in asked[0].message
    assert ZHANG_WEI_SALES_OPEN_ID in batch.body["user_ids"] and ZHANG_WEI_BACKEND_OPEN_ID not in batch.body["user_ids"]
    assert result["items"][0]["id"] == ZHANG_WEI_SALES_OPEN_ID


@pytest.mark.parametrize(("action", "said"), [("decline", "declined to choose"), ("cancel", "cancelled the choice")])
async def test_a_declined_or_cancelled_pick_is_a_clear_answer(
    sb: Sandbox, action: Literal["decline", "cancel"], said: str
) -> None:
    async with session(sb, answering(action)) as mcp:
        message = await mcp.fail("get_free_busy", people=["Zhang Wei"], **WINDOW)
        assert mcp.sent("/freebusy") == []
    assert said in message and "nothing was changed" in message and "Resolver" not in message


async def test_find_meeting_times_with_zhang_wei_the_user_picks(sb: Sandbox) -> None:
    asked: list[ElicitRequestParams] = []
    async with session(sb, picking(asked, "Shanghai")) as mcp:
        await mcp.call("find_meeting_times", attendees=["Zhang Wei"], duration_minutes=30, **WINDOW)
        asked_for = {i for r in mcp.sent("/freebusy/batch") for i in r.body["user_ids"]}
    assert len(asked) == 1
    assert ZHANG_WEI_BACKEND_OPEN_ID in asked_for and ZHANG_WEI_SALES_OPEN_ID not in asked_for


async def test_without_elicitation_every_name_taking_tool_lists_what_tells_them_apart(mcp: Session) -> None:
    for tool, arguments in (
        ("get_free_busy", {"people": ["Zhang Wei"], **WINDOW}),
        ("find_meeting_times", {"attendees": ["Zhang Wei"], "duration_minutes": 30, **WINDOW}),
    ):
        message = await mcp.fail(tool, **arguments)
        assert "matches 2 people" in message and "ask the user which one" in message, tool
        assert ZHANG_WEI_BACKEND_OPEN_ID in message and "Backend" in message and "Beijing" in message, tool
        assert mcp.sent("/freebusy") == [], tool
    rooms = await mcp.fail("get_free_busy", people=[], rooms=["Building B"], **WINDOW)
    assert "matches 4 rooms" in rooms and "2 seats" in rooms and "10 seats" in rooms


async def test_a_calendar_name_that_means_two_calendars(mcp: Session) -> None:
    message = await mcp.fail("list_events", calendar_id="Product team", **WINDOW)
    assert "matches 2 calendars" in message and TEAM_CALENDAR_ID in message and OTHER_TEAM in message
    assert "shared, writer" in message
    assert mcp.sent("/events") == []


async def test_the_user_picks_a_calendar_and_a_person_in_one_question(sb: Sandbox) -> None:
    asked: list[ElicitRequestParams] = []
    async with session(sb, picking(asked, OTHER_TEAM, "Beijing")) as mcp:
        created = await mcp.call(
            "create_event",
            calendar_id="Product team",
            summary="Planning",
            start="2026-11-26T10:00",
            end="2026-11-26T11:00",
            invite=["Zhang Wei"],
        )
        writes = [r.path for r in mcp.sb.log if r.method == "POST" and "/calendars/" in r.path]
    assert len(asked) == 1 and len(asked[0].requested_schema["properties"]) == 2  # type: ignore[union-attr]
    event_id = created["event"]["event_id"]
    base = f"/open-apis/calendar/v4/calendars/{OTHER_TEAM}/events"
    assert writes == [base, f"{base}/{event_id}/attendees"]
    assert {a.get("user_id") for a in created["event"]["attendees"]} >= {ZHANG_WEI_SALES_OPEN_ID}


async def test_names_that_settle_at_once_are_looked_up_once(sb: Sandbox) -> None:
    asked: list[ElicitRequestParams] = []
    async with session(sb, picking(asked, "")) as mcp:
        await mcp.call("get_free_busy", people=["Li Lei"], rooms=["Huangshan"], **WINDOW)
        searches = mcp.sent("/search/v1/user") + mcp.sent("/rooms/search")
    assert asked == [] and len(searches) == 2  # the resolver's look-ups serve the tool too


async def test_list_calendars_and_calendar_names_read_every_page(sb: Sandbox) -> None:
    """More calendars than Feishu's largest page (1000), some deleted: every page is read, on has_more."""
    for n in range(1030):
        calendar = add_shared_calendar(
            sb, f"feishu.cn_sandbox0many{n:04d}@group.calendar.feishu.cn", f"Project {n:04d}", open_id("liu0yang")
        )
        calendar.acl[DEMO_USER_OPEN_ID] = "reader"
        calendar.is_deleted = n % 100 == 7
    async with session(sb) as mcp:
        listed = (await mcp.call("list_calendars"))["calendars"]
        pages = mcp.sent("/open-apis/calendar/v4/calendars")
        assert [r.query.get("page_token") is not None for r in pages] == [False, True]
        assert all(r.query["page_size"] == "1000" for r in pages)
        titles = {c["summary"] for c in listed}
        assert {"Project 0000", "Project 1029", "Product team"} <= titles and "Project 0007" not in titles
        # The last calendar is on the second page: its name works where a calendar_id is wanted.
        await mcp.call("list_events", calendar_id="Project 1029", **WINDOW)
        (events,) = mcp.sent("/events")
    assert events.path == "/open-apis/calendar/v4/calendars/feishu.cn_sandbox0many1029@group.calendar.feishu.cn/events"
