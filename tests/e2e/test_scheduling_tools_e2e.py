"""find_people, get_free_busy, find_rooms and list_calendars through the MCP client, with their wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from sandbox import (
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    TEAM_CALENDAR_ID,
    Sandbox,
    add_chat,
    add_user,
)
from sandbox.seed_directory import (
    BACKEND_CHAT_ID,
    CHEN_JING_PRIVATE_OPEN_ID,
    HOLIDAYS_CALENDAR_ID,
    ZHANG_WEI_BACKEND_OPEN_ID,
    ZHANG_WEI_SALES_OPEN_ID,
    ZHAO_MIN_RESIGNED_OPEN_ID,
    open_id,
)
from tests.e2e.scheduling_harness import Session, pinned_sandbox, session

pytestmark = pytest.mark.anyio


@pytest.fixture
def sb() -> Sandbox:
    return pinned_sandbox()


@pytest.fixture
async def mcp(sb: Sandbox) -> AsyncIterator[Session]:
    async with session(sb) as s:
        yield s


async def test_find_people_by_part_of_a_name_with_profiles(mcp: Session) -> None:
    found = await mcp.call("find_people", query="Li Lei")
    assert [p["open_id"] for p in found["people"]] == [LI_LEI_OPEN_ID]
    li_lei = found["people"][0]
    assert (li_lei["name"], li_lei["department"], li_lei["city"]) == ("李雷", "Backend", "Shanghai")
    search, profiles = mcp.sent("/search/v1/user"), mcp.sent("/contact/v3/users/")
    assert search[0].method == "GET" and search[0].query["query"] == "Li Lei"
    # Department names come only from the single-user read (contact-v3/user/batch.md has none).
    assert [(r.method, r.path) for r in profiles] == [("GET", f"/open-apis/contact/v3/users/{LI_LEI_OPEN_ID}")]
    assert profiles[0].query == {"department_id_type": "open_department_id"} and found["note"] == ""


async def test_find_people_says_what_tells_two_zhang_wei_apart(mcp: Session) -> None:
    found = await mcp.call("find_people", query="张伟")
    assert {p["open_id"] for p in found["people"]} == {ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID}
    assert {(p["department"], p["city"]) for p in found["people"]} == {("Backend", "Shanghai"), ("Sales", "Beijing")}
    assert "2 people are named 张伟" in found["note"] and "Beijing" in found["note"]


async def test_find_people_without_a_match_says_an_email_can_still_be_invited(mcp: Session) -> None:
    found = await mcp.call("find_people", query="guest@partner.example")
    assert found["people"] == []
    assert "third_party" in found["note"]


async def test_find_people_without_profile_scope_still_finds(sb: Sandbox) -> None:
    token = sb.issue_user_token(sb.demo_user.open_id, scopes=["contact:user:search", "calendar:calendar"])
    from mcp import Client

    from server.app import build_server
    from server.tokens import StaticToken
    from tests.helpers import all_tools_settings

    server = build_server(all_tools_settings(), StaticToken(token), transport=sb.transport(), clock=sb.clock)
    async with Client(server) as client:
        result = await client.call_tool("find_people", {"query": "韩梅梅"})
    assert not result.is_error and result.structured_content is not None
    assert [p["open_id"] for p in result.structured_content["people"]] == [HAN_MEIMEI_OPEN_ID]
    assert result.structured_content["people"][0]["department"] == "od-design"  # ids only, without the scope


async def test_free_busy_by_name_unreadable_is_unknown_and_rooms_by_name(mcp: Session) -> None:
    result = await mcp.call(
        "get_free_busy", people=["Li Lei", "陈静"], rooms=["Kunlun"], start="2026-11-23", end="2026-11-23"
    )
    li_lei, chen_jing, kunlun = result["items"]
    assert li_lei["status"] == "known"
    assert {"start": "2026-11-23T14:00:00+08:00", "end": "2026-11-23T14:30:00+08:00"} in li_lei["busy"]
    assert (chen_jing["id"], chen_jing["status"], chen_jing["busy"]) == (CHEN_JING_PRIVATE_OPEN_ID, "unknown", [])
    assert [kunlun] == [
        {
            "kind": "room",
            "name": "Kunlun 昆仑 (4)",
            "id": ROOM_IDS[1],
            "status": "known",
            "busy": [{"start": "2026-11-23T14:00:00+08:00", "end": "2026-11-23T14:30:00+08:00"}],
        }
    ]
    (batch,) = mcp.sent("/freebusy/batch")
    assert batch.body["user_ids"] == [LI_LEI_OPEN_ID, CHEN_JING_PRIVATE_OPEN_ID]
    assert (batch.body["time_min"], batch.body["time_max"]) == (
        "2026-11-23T00:00:00+08:00",
        "2026-11-24T00:00:00+08:00",
    )
    (room,) = mcp.sent("/freebusy/list")
    assert room.body["room_id"] == ROOM_IDS[1]


async def test_free_busy_splits_into_feishu_sized_calls(mcp: Session) -> None:
    people = [open_id(slug) for slug in ("sun0li", "zhou0jie", "wu0xia", "zheng0hao", "liu0yang", "chen0gang")]
    people += [open_id(slug) for slug in ("yang0fan", "huang0lei", "lin0na", "he0jing", "luo0bin", "ma0chao")]
    result = await mcp.call("get_free_busy", people=people, start="2026-11-23", end="2026-12-13")
    assert len(result["items"]) == 12 and all(p["status"] == "known" for p in result["items"])
    batches = mcp.sent("/freebusy/batch")
    assert len(batches) == 4  # 12 people = 10 + 2; 21 days = 14 + 7
    for request in batches:
        assert 1 <= len(request.body["user_ids"]) <= 10
        span = datetime.fromisoformat(request.body["time_max"]) - datetime.fromisoformat(request.body["time_min"])
        assert span.days <= 14
    assert sorted(len(r.body["user_ids"]) for r in batches) == [2, 2, 10, 10]


async def test_free_busy_of_an_ambiguous_name_lists_the_candidates(mcp: Session) -> None:
    message = await mcp.fail("get_free_busy", people=["Zhang Wei"], start="2026-11-23", end="2026-11-24")
    assert "matches 2 people" in message
    assert ZHANG_WEI_BACKEND_OPEN_ID in message and ZHANG_WEI_SALES_OPEN_ID in message
    assert "Backend" in message and "Beijing" in message
    assert mcp.sent("/freebusy") == []


async def test_free_busy_needs_someone_and_at_most_twenty(mcp: Session) -> None:
    message = await mcp.fail("get_free_busy", people=[], start="2026-11-23", end="2026-11-24")
    assert "people/rooms" in message and mcp.sb.log == []
    many = [f"ou_{i}" for i in range(21)]
    assert "at most 20" in await mcp.fail("get_free_busy", people=many, start="2026-11-23", end="2026-11-24")


async def test_find_rooms_free_for_a_slot_smallest_first(mcp: Session) -> None:
    # Tuesday 14:00-15:00: the weekly sync (moved) holds Everest.
    result = await mcp.call("find_rooms", min_capacity=6, start="2026-11-24T14:00", end="2026-11-24T15:00")
    names = [r["name"] for r in result["rooms"]]
    assert "Everest 珠峰 (8)" not in names and names[0] in ("Emei 峨眉", "Huangshan 黄山", "Yandang 雁荡")
    capacities = [r["capacity"] for r in result["rooms"]]
    assert capacities == sorted(capacities) and min(capacities) >= 6
    assert result["free_between"] == ["2026-11-24T14:00:00+08:00", "2026-11-24T15:00:00+08:00"]
    (search,) = mcp.sent("/vc/v1/rooms/search")
    assert search.body == {"page_size": 100, "search_level_name": True}
    (freebusy,) = mcp.sent("/meeting_room/freebusy/batch_get")
    assert len(freebusy.query["room_ids"]) == len([n for n in names]) + 1


async def test_find_rooms_by_building_words(mcp: Session) -> None:
    result = await mcp.call("find_rooms", query="Building B")
    assert {r["name"] for r in result["rooms"]} == {
        "Taishan 泰山 (20)",
        "Emei 峨眉",
        "Lushan 庐山",
        "Qingcheng 青城 phone booth",
    }
    assert mcp.sent("/meeting_room/freebusy") == []


async def test_list_calendars_with_roles(mcp: Session) -> None:
    calendars = {c["calendar_id"]: c for c in (await mcp.call("list_calendars"))["calendars"]}
    assert calendars[TEAM_CALENDAR_ID]["role"] == "writer"
    assert calendars[HOLIDAYS_CALENDAR_ID]["role"] == "reader"
    assert any(c["type"] == "primary" and c["role"] == "owner" for c in calendars.values())
    # The wire: one GET of the calendar list (Feishu's largest page: all fit), the user's token.
    [sent] = mcp.sent("/open-apis/calendar/v4/calendars")
    wire = (sent.method, sent.path, sent.query, sent.body)
    assert wire == ("GET", "/open-apis/calendar/v4/calendars", {"page_size": "1000"}, None)
    assert sent.headers["authorization"].startswith("Bearer ") and sent.status == 200 and sent.code == 0


async def test_calendar_named_instead_of_an_id(mcp: Session) -> None:
    """A calendar's exact name where a calendar_id is wanted resolves through the calendar list."""
    listed = (await mcp.call("list_calendars"))["calendars"]
    team = next(c for c in listed if c["calendar_id"] == TEAM_CALENDAR_ID)
    today = (await mcp.call("get_current_context"))["today"]["start"][:10]
    await mcp.call("list_events", calendar_id=team["summary"], start=today, end=today)
    [events_request] = mcp.sent("/events")
    assert events_request.path == f"/open-apis/calendar/v4/calendars/{TEAM_CALENDAR_ID}/events"


# Feishu refuses a whole batch free/busy call with 195100 for one person who left the tenant or was
# never in it: the tools ask that batch's people one by one and report the refused as "unknown".


async def test_someone_who_left_is_unknown_and_the_others_keep_their_busy_time(mcp: Session) -> None:
    people = [LI_LEI_OPEN_ID, ZHAO_MIN_RESIGNED_OPEN_ID, CHEN_JING_PRIVATE_OPEN_ID, EXTERNAL_OPEN_ID]
    result = await mcp.call("get_free_busy", people=people, start="2026-11-23", end="2026-11-23")
    status = {item["id"]: (item["status"], item["busy"]) for item in result["items"]}
    li_lei = {"start": "2026-11-23T14:00:00+08:00", "end": "2026-11-23T14:30:00+08:00"}
    assert status[LI_LEI_OPEN_ID][0] == "known" and li_lei in status[LI_LEI_OPEN_ID][1]
    for unknown in (ZHAO_MIN_RESIGNED_OPEN_ID, CHEN_JING_PRIVATE_OPEN_ID, EXTERNAL_OPEN_ID):
        assert status[unknown] == ("unknown", [])
    (batch,) = mcp.sent("/freebusy/batch")
    assert batch.code == 195100 and batch.body["user_ids"] == people
    singles = mcp.sent("/freebusy/list")
    assert sorted(r.body["user_id"] for r in singles) == sorted(people)
    assert {r.body["user_id"]: r.code for r in singles} == {
        LI_LEI_OPEN_ID: 0,
        ZHAO_MIN_RESIGNED_OPEN_ID: 195100,
        CHEN_JING_PRIVATE_OPEN_ID: 191002,
        EXTERNAL_OPEN_ID: 195100,
    }


async def test_meeting_times_with_someone_who_left_name_them_unknown(mcp: Session) -> None:
    result = await mcp.call(
        "find_meeting_times",
        attendees=["Li Lei", ZHAO_MIN_RESIGNED_OPEN_ID],
        duration_minutes=30,
        start="2026-11-24",
        end="2026-11-24",
    )
    assert result["slots"]
    assert result["source"] == "feishu_suggestion"
    assert all(ZHAO_MIN_RESIGNED_OPEN_ID in slot["unknown"] for slot in result["slots"])
    assert all("Li Lei" in slot["free"] or "李雷" in slot["free"] for slot in result["slots"])


async def test_meeting_times_read_every_page_of_a_big_chats_members(sb: Sandbox, mcp: Session) -> None:
    # Feishu lists at most 100 members a page (group/chat-member/get.md): Li Lei, 112th, is on the second.
    crowd = [add_user(sb, open_id(f"crowd{i:03d}"), f"Crowd {i}").open_id for i in range(110)]
    add_chat(
        sb,
        "oc_sandbox0big0chat00000000000099",
        "Big chat",
        sb.demo_user.open_id,
        [sb.demo_user.open_id, *crowd, LI_LEI_OPEN_ID],
    )
    result = await mcp.call(
        "find_meeting_times",
        attendees=["oc_sandbox0big0chat00000000000099"],
        duration_minutes=30,
        start="2026-11-24",
        end="2026-11-24",
    )
    assert result["slots"] and all("李雷" in slot["free"] for slot in result["slots"])
    pages = mcp.sent("/members")
    assert len(pages) == 2 and "page_token" not in pages[0].query and pages[1].query["page_token"]


async def test_meeting_times_with_a_chat_you_are_not_in_says_what_to_do(mcp: Session) -> None:
    # Its members are listed to members only (chat-member/get.md, 232011): unknown, never free.
    result = await mcp.call(
        "find_meeting_times", attendees=[BACKEND_CHAT_ID], duration_minutes=30, start="2026-11-24", end="2026-11-24"
    )
    assert [r.code for r in mcp.sent("/members")] == [232011]
    assert all(slot["unknown"] == [f"members of {BACKEND_CHAT_ID}"] for slot in result["slots"])
    assert f"not in the group chat '{BACKEND_CHAT_ID}'" in result["note"] and "be added to it" in result["note"]
