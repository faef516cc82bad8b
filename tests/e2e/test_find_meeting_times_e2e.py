"""find_meeting_times through the MCP client: working hours, time zones, unreadable people, batching,
the undocumented path and its documented fallback, and no slot at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox import WANG_FANG_OPEN_ID, Sandbox, rooms
from sandbox.seed_directory import open_id
from tests.e2e.scheduling_harness import MONDAY_10, Session, pinned_sandbox, session

pytestmark = pytest.mark.anyio

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEN_COLLEAGUES = [
    open_id(s)
    for s in ("sun0li", "zhou0jie", "wu0xia", "zheng0hao", "liu0yang", "chen0gang", "yang0fan", "huang0lei", "lin0na")
] + [open_id("he0jing"), open_id("luo0bin")]


async def find_times(
    *, undocumented: bool = False, settings: dict[str, Any] | None = None, **arguments: Any
) -> tuple[dict[str, Any], Session]:
    """One find_meeting_times call on a fresh pinned sandbox; the session still shows what was sent."""
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = undocumented
    async with session(sb, **(settings or {})) as mcp:
        return await mcp.call("find_meeting_times", **arguments), mcp


def within(slot: dict[str, str], zone: ZoneInfo, first: int = 9, last: int = 18) -> bool:
    start = datetime.fromisoformat(slot["start"]).astimezone(zone)
    end = datetime.fromisoformat(slot["end"]).astimezone(zone)
    return (
        start.weekday() < 5
        and start.hour >= first
        and (end.hour, end.minute) <= (last, 0)
        and start.date() == end.date()
    )


@pytest.mark.parametrize("undocumented", [True, False], ids=["suggestion", "documented-fallback"])
async def test_slots_in_working_hours_never_past_with_who_is_free(undocumented: bool, machine_zone: str) -> None:
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = undocumented
    async with session(sb) as mcp:
        result = await mcp.call(
            "find_meeting_times",
            attendees=["Li Lei", "Han Meimei"],
            duration_minutes=30,
            start="2026-11-23",
            end="2026-11-27",
        )
        assert result["source"] == ("feishu_suggestion" if undocumented else "free_busy")
        assert 1 <= len(result["slots"]) <= 5
        for slot in result["slots"]:
            assert within(slot, SHANGHAI), slot
            assert datetime.fromisoformat(slot["start"]).timestamp() >= MONDAY_10
            assert set(slot["free"]) >= {"李雷", "韩梅梅", "you"} or slot["busy"]
        first = result["slots"][0]
        assert first["busy"] == [] and first["why"]
        # Every proposed slot is really free for all three on their calendars.
        busy = await mcp.call(
            "get_free_busy", people=["Li Lei", "Han Meimei", sb.demo_user.open_id], start="2026-11-23", end="2026-11-27"
        )
        for person in busy["items"]:
            for span in person["busy"]:
                assert not (span["start"] < first["end"] and span["end"] > first["start"]), (person["name"], first)
        if not undocumented:
            assert len(mcp.sent("/freebusy/batch")) == 1  # the second call: get_free_busy's own


async def test_the_probe_is_remembered_and_the_fallback_is_taken_at_once() -> None:
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = False
    async with session(sb) as mcp:
        args = {"attendees": ["Li Lei"], "duration_minutes": 30, "start": "2026-11-24", "end": "2026-11-24"}
        await mcp.call("find_meeting_times", **args)
        assert len(mcp.sent("/freebusy/suggestion")) == 1 and mcp.sent("/freebusy/batch")
        await mcp.call("find_meeting_times", **args)
        assert mcp.sent("/freebusy/suggestion") == []


async def test_working_hours_setting_is_honoured() -> None:
    result, _ = await find_times(
        settings={"working_hours": "Tue-Thu 13:00-16:00"},
        attendees=["Li Lei"],
        duration_minutes=60,
        start="2026-11-23",
        end="2026-11-29",
        limit=10,
    )
    assert result["slots"]
    for slot in result["slots"]:
        start = datetime.fromisoformat(slot["start"]).astimezone(SHANGHAI)
        assert start.weekday() in (1, 2, 3) and within(slot, SHANGHAI, 13, 16), slot


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14 and UTC-11
async def test_time_zones_on_both_sides_of_the_date_line(zone: str, machine_zone: str) -> None:
    result, _ = await find_times(
        settings={"timezone": zone}, attendees=["Li Lei"], duration_minutes=60, start="2026-11-23", end="2026-11-25"
    )
    assert result["slots"]
    for slot in result["slots"]:
        assert within(slot, ZoneInfo(zone)), slot
        assert datetime.fromisoformat(slot["start"]).timestamp() >= MONDAY_10
        assert slot["start"].endswith("+14:00" if zone == "Pacific/Kiritimati" else "-11:00")


@pytest.mark.parametrize("undocumented", [True, False], ids=["suggestion", "documented-fallback"])
async def test_a_person_with_unreadable_free_busy_is_unknown_never_free(undocumented: bool) -> None:
    result, _ = await find_times(
        undocumented=undocumented,
        attendees=["Li Lei", "陈静"],
        duration_minutes=30,
        start="2026-11-24",
        end="2026-11-25",
    )
    assert result["slots"]
    for slot in result["slots"]:
        assert "陈静" in slot["unknown"] and "陈静" not in slot["free"]
        assert "free/busy unknown: 陈静" in slot["why"]


async def test_ten_plus_people_are_batched_by_ten() -> None:
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = False
    async with session(sb) as mcp:
        result = await mcp.call(
            "find_meeting_times", attendees=TEN_COLLEAGUES, duration_minutes=30, start="2026-11-24", end="2026-11-26"
        )
        batches = mcp.sent("/freebusy/batch")
    assert result["slots"] and len(batches) == 2
    assert sorted(len(b.body["user_ids"]) for b in batches) == [2, 10]  # 11 colleagues and you
    ranked = [len(s["busy"]) for s in result["slots"]]
    assert ranked == sorted(ranked)
    assert all(s["why"] == "everyone is free" or s["why"].startswith("busy:") for s in result["slots"])


@pytest.mark.parametrize("undocumented", [True, False], ids=["room_find", "documented-fallback"])
async def test_room_for_three_with_each_slot(undocumented: bool) -> None:
    result, mcp = await find_times(
        undocumented=undocumented,
        attendees=["Li Lei", "Han Meimei"],
        duration_minutes=30,
        start="2026-11-23",
        end="2026-11-27",
        room_capacity=3,
        limit=3,
    )
    assert mcp.sent("/freebusy/room_find" if undocumented else "/meeting_room/freebusy/batch_get")
    assert result["slots"]
    for slot in result["slots"]:
        assert slot["rooms"] and all(r["capacity"] >= 3 for r in slot["rooms"])
        assert slot["rooms"][0]["name"] == "Hengshan 衡山"  # the smallest room that fits


async def test_no_slot_at_all_is_a_clear_answer() -> None:
    sb = pinned_sandbox()
    async with session(sb) as mcp:
        weekend = await mcp.call(
            "find_meeting_times", attendees=["Li Lei"], duration_minutes=30, start="2026-11-28", end="2026-11-29"
        )
        past = await mcp.call(
            "find_meeting_times", attendees=["Li Lei"], duration_minutes=30, start="2026-11-16", end="2026-11-20"
        )
    for answer in (weekend, past):
        assert answer["slots"] == []
        assert "No 30-minute slot" in answer["note"] and "Mon,Tue,Wed,Thu,Fri 09:00-18:00" in answer["note"]


async def test_past_window_sends_nothing_to_feishu_for_slots() -> None:
    result, mcp = await find_times(attendees=["ou_x"], duration_minutes=30, start="2026-11-16", end="2026-11-20")
    assert result["slots"] == [] and mcp.sent("/freebusy") == []


@pytest.mark.parametrize("undocumented", [True, False], ids=["suggestion", "documented-fallback"])
async def test_a_group_chat_by_name_brings_its_members(undocumented: bool) -> None:
    result, mcp = await find_times(
        undocumented=undocumented,
        attendees=["Design guild 设计"],
        duration_minutes=30,
        start="2026-11-24",
        end="2026-11-25",
    )
    assert mcp.sent("/im/v1/chats/search")
    assert result["slots"]
    everyone = set(result["slots"][0]["free"]) | set(result["slots"][0]["busy"])
    assert {"韩梅梅", "吴霞", "郑浩", "you"} <= everyone  # the chat's members, by name


@pytest.mark.parametrize("undocumented", [True, False], ids=["suggestion", "documented-fallback"])
async def test_a_public_chat_the_user_is_not_in_is_unknown_and_says_what_to_do(undocumented: bool) -> None:
    # Chat search finds public chats too (search.md); their members are listed to members only
    # (chat-member/get.md, 232011): the tool counts the chat as unknown, never as free, and says why.
    result, mcp = await find_times(
        undocumented=undocumented,
        attendees=["Li Lei", "Frontend guild 前端"],
        duration_minutes=30,
        start="2026-11-24",
        end="2026-11-25",
    )
    assert [r.code for r in mcp.sent("/im/v1/chats/")] == [0, 232011]  # found, then members refused
    assert result["slots"]
    for slot in result["slots"]:
        assert slot["unknown"] == ["members of Frontend guild 前端"]
        assert "members of Frontend guild 前端" not in slot["free"] and "李雷" in slot["free"] + slot["busy"]
        assert "free/busy unknown: members of Frontend guild 前端" in slot["why"]
    note = result["note"]
    assert "not in the group chat 'Frontend guild 前端'" in note and "join the chat in Feishu (a public one)" in note


def clashes(slot: dict[str, Any], day: int, busy: list[dict[str, str]]) -> bool:
    """Whether the slot's time ``day`` days later meets one of the busy spans."""
    start = datetime.fromisoformat(slot["start"]) + timedelta(days=day)
    end = datetime.fromisoformat(slot["end"]) + timedelta(days=day)
    return any(datetime.fromisoformat(b["start"]) < end and datetime.fromisoformat(b["end"]) > start for b in busy)


@pytest.mark.parametrize("undocumented", [True, False], ids=["suggestion", "documented-fallback"])
async def test_a_recurring_meeting_is_free_at_every_occurrence_in_the_window(undocumented: bool) -> None:
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = undocumented
    window = {"start": "2026-11-24", "end": "2026-11-27"}
    async with session(sb) as mcp:
        args = {"attendees": ["Li Lei", "Han Meimei"], "duration_minutes": 60, "limit": 10, **window}
        once = await mcp.call("find_meeting_times", **args)
        daily = await mcp.call("find_meeting_times", recurrence="FREQ=DAILY;UNTIL=20261127", **args)
        if undocumented:
            assert mcp.sent("/freebusy/suggestion")[0].body["event_rrule"] == "FREQ=DAILY;UNTIL=20261127"
        busy = await mcp.call("get_free_busy", people=["Li Lei", "Han Meimei", sb.demo_user.open_id], **window)
    spans = [span for person in busy["items"] for span in person["busy"]]
    assert daily["slots"]
    for slot in daily["slots"]:
        first = datetime.fromisoformat(slot["start"]).astimezone(SHANGHAI)
        days = 27 - first.day + 1  # daily until Friday the 27th
        assert slot["busy"] == [] and not any(clashes(slot, d, spans) for d in range(days)), slot
        checked = f"checked at each of its {days} times" if days > 1 else "its one time"
        assert slot["why"] == f"everyone is free ({checked} in the window)"
    # The one-off search offers a time that a later day of the series would clash with.
    assert any(clashes(s, d, spans) for s in once["slots"] for d in range(1, 4) if s["busy"] == [])


async def test_a_recurrence_with_count_is_refused_before_anything_is_sent() -> None:
    sb = pinned_sandbox()
    async with session(sb) as mcp:
        message = await mcp.fail(
            "find_meeting_times",
            attendees=["Li Lei"],
            duration_minutes=30,
            start="2026-11-24",
            end="2026-11-27",
            recurrence="FREQ=WEEKLY;COUNT=4",
        )
        assert "recurrence" in message and "UNTIL" in message and mcp.sent("/open-apis") == []


async def book_thursday(sb: Sandbox, room_id: str) -> None:
    """Wang Fang (no attendee of the searches) books the room all Thursday 2026-11-26, 09:00-18:00."""
    calendar = sb.world.primary_calendar(WANG_FANG_OPEN_ID)
    assert calendar is not None
    events = f"/open-apis/calendar/v4/calendars/{calendar.calendar_id}/events"
    nine = int(MONDAY_10) + 3 * 86400 - 3600
    day = {"start_time": {"timestamp": str(nine)}, "end_time": {"timestamp": str(nine + 9 * 3600)}}
    async with sb.client(headers={"Authorization": f"Bearer {sb.issue_user_token(WANG_FANG_OPEN_ID)}"}) as http:
        made = (await http.post(events, json={"summary": "Offsite", **day})).json()
        room = {"attendees": [{"type": "resource", "room_id": room_id}]}
        booked = await http.post(f"{events}/{made['data']['event']['event_id']}/attendees", json=room)
        assert booked.json()["code"] == 0


@pytest.mark.parametrize("undocumented", [True, False], ids=["room_find", "documented-fallback"])
async def test_a_recurring_meeting_gets_rooms_free_at_every_time_in_the_window(undocumented: bool) -> None:
    sb = pinned_sandbox()
    sb.world.directory.undocumented_endpoints = undocumented
    hengshan = "omm_sandbox0room0hengshan"  # the smallest room for three
    await book_thursday(sb, hengshan)
    async with session(sb) as mcp:
        result = await mcp.call(
            "find_meeting_times",
            attendees=["Li Lei", "Han Meimei"],
            duration_minutes=30,
            start="2026-11-24",
            end="2026-11-27",
            room_capacity=3,
            limit=10,
            recurrence="FREQ=DAILY;UNTIL=20261127",
        )
        if undocumented:
            assert all(r.body["event_rrule"] == "FREQ=DAILY;UNTIL=20261127" for r in mcp.sent("/freebusy/room_find"))
    assert result["slots"]
    for slot in result["slots"]:
        start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        days = range(27 - start.astimezone(SHANGHAI).day + 1)
        assert slot["rooms"], slot
        for room in slot["rooms"]:
            for day in days:
                lo, hi = (int((t + timedelta(days=day)).timestamp()) for t in (start, end))
                assert not rooms.bookings(sb.world, room["room_id"], lo, hi), (slot["start"], room["name"], day)
            assert bool(room["free_until"]) == undocumented  # how long room_find says it may be booked
        # Hengshan is taken all Thursday: no daily series through Thursday gets it.
        assert (hengshan in [r["room_id"] for r in slot["rooms"]]) == (start.astimezone(SHANGHAI).day == 27)
