"""The tenant directory and the scheduling look-ups, driven through raw HTTP as Feishu's CLI calls them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx2
import pytest

from sandbox import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_USER_OPEN_ID,
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    Sandbox,
)
from sandbox.seed import TENANT_KEY
from sandbox.seed_directory import (
    CHEN_JING_PRIVATE_OPEN_ID,
    DESIGN_CHAT_ID,
    HOLIDAYS_CALENDAR_ID,
    ZHANG_WEI_BACKEND_OPEN_ID,
    ZHANG_WEI_SALES_OPEN_ID,
    ZHAO_MIN_RESIGNED_OPEN_ID,
)
from tests.sandbox.helpers_sandbox import DAY, FIXED_NOW, HOUR, V4, WEEK_START, bearer, fails, ok

pytestmark = pytest.mark.anyio

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEARCH = "/open-apis/search/v1/user"
PROFILES = "/open-apis/contact/v3/users/batch"
BATCH = V4 + "/freebusy/batch"
LIST = V4 + "/freebusy/list"
ROOMS = "/open-apis/vc/v1/rooms/search"
SUGGESTION = V4 + "/freebusy/suggestion"
ROOM_FIND = V4 + "/freebusy/room_find"


def rfc3339(seconds: float, zone: dt.tzinfo = SHANGHAI) -> str:
    return dt.datetime.fromtimestamp(seconds, zone).isoformat()


def test_the_directory_has_the_people_scheduling_needs(sb: Sandbox) -> None:
    tenant = [u for u in sb.world.users.values() if u.tenant_key == TENANT_KEY]
    assert len(tenant) >= 30
    zhang = [u for u in tenant if u.en_name == "Zhang Wei"]
    assert len(zhang) == 2
    profiles = sb.world.directory.profiles
    assert {profiles[u.open_id].department_ids[0] for u in zhang} == {"od-backend", "od-sales"}
    assert sb.world.users[ZHAO_MIN_RESIGNED_OPEN_ID].status == "resigned"
    assert sb.world.users[EXTERNAL_OPEN_ID].tenant_key != TENANT_KEY
    assert all(sb.world.primary_calendar(u.open_id) is not None for u in tenant)
    approval = [d for d in sb.world.directory.room_details.values() if d.needs_approval]
    assert len(approval) == 1


async def test_people_search_finds_names_in_any_script_never_resigned_or_external(
    api: httpx2.AsyncClient,
) -> None:
    found = ok(await api.get(SEARCH, params={"query": "张伟"}))
    assert {u["open_id"] for u in found["users"]} == {ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID}
    assert {tuple(u["department_ids"]) for u in found["users"]} == {("od-backend",), ("od-sales",)}
    assert all("email" not in u and u["avatar"]["avatar_72"] for u in found["users"])
    latin = ok(await api.get(SEARCH, params={"query": "zhang wei"}))
    assert len(latin["users"]) == 2
    assert [u["open_id"] for u in ok(await api.get(SEARCH, params={"query": "Li Lei"}))["users"]] == [LI_LEI_OPEN_ID]
    assert ok(await api.get(SEARCH, params={"query": "赵敏"}))["users"] == []  # resigned
    assert ok(await api.get(SEARCH, params={"query": "Partner"}))["users"] == []  # another tenant
    first = ok(await api.get(SEARCH, params={"query": "Zhang", "page_size": 1}))
    assert first["has_more"] is True and len(first["users"]) == 1
    second = ok(await api.get(SEARCH, params={"query": "Zhang", "page_size": 1, "page_token": first["page_token"]}))
    assert second["users"][0]["open_id"] != first["users"][0]["open_id"]
    fails(await api.get(SEARCH, params={"query": "x", "page_size": 201}), 99992402, 400)


async def test_people_search_is_user_token_only(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    grant = await anonymous.post(
        "/open-apis/auth/v3/tenant_access_token/internal",
        json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET},
    )
    tenant_token = grant.json()["tenant_access_token"]
    fails(await anonymous.get(SEARCH, params={"query": "Li"}, headers=bearer(tenant_token)), 99991663, 400)
    fails(await anonymous.post(ROOMS, json={"keyword": "A"}, headers=bearer(tenant_token)), 99991663, 400)
    scoped = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=["calendar:calendar"])
    fails(await anonymous.get(SEARCH, params={"query": "Li"}, headers=bearer(scoped)), 99991679, 403)


async def test_profiles_name_departments_and_leave_out_other_tenants(api: httpx2.AsyncClient) -> None:
    ids = [ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID, EXTERNAL_OPEN_ID]
    items = ok(await api.get(PROFILES, params={"user_ids": ids}))["items"]
    assert [i["open_id"] for i in items] == ids[:2]
    backend, sales = items
    # The batch never returns department_path (contact-v3/user/batch.md); the single read does.
    assert "department_path" not in backend and backend["department_ids"] == ["od-backend"]
    one = ok(await api.get(f"/open-apis/contact/v3/users/{ZHANG_WEI_BACKEND_OPEN_ID}"))["user"]
    assert one["department_path"][0]["department_name"]["name"] == "后端组"
    assert one["department_path"][0]["department_path"]["department_ids"] == ["od-engineering", "od-backend"]
    assert (backend["job_title"], backend["city"]) == ("Backend engineer", "Shanghai")
    assert (sales["job_title"], sales["city"]) == ("Account manager", "Beijing")
    assert ok(await api.get(PROFILES, params={"user_ids": [ZHAO_MIN_RESIGNED_OPEN_ID]}))["items"][0]["status"][
        "is_resigned"
    ]
    fails(await api.get(PROFILES, params={"user_ids": [f"ou_{i}" for i in range(51)]}), 40001, 400)


async def test_batch_free_busy_limits_and_unreadable_people(api: httpx2.AsyncClient) -> None:
    lo, hi = WEEK_START, WEEK_START + 5 * DAY
    window = {"time_min": rfc3339(lo), "time_max": rfc3339(hi)}
    fails(await api.post(BATCH, json={**window, "user_ids": [f"ou_{i}" for i in range(11)]}), 198001, 400)
    fails(await api.post(BATCH, json={**window, "user_ids": []}), 198001, 400)
    fails(await api.post(BATCH, json={"time_min": "monday", "time_max": window["time_max"], "user_ids": ["x"]}), 198002)
    too_long = {"time_min": rfc3339(lo), "time_max": rfc3339(lo + 15 * DAY), "user_ids": [LI_LEI_OPEN_ID]}
    fails(await api.post(BATCH, json=too_long), 198003, 400)

    ids = [LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, CHEN_JING_PRIVATE_OPEN_ID]
    lists = ok(await api.post(BATCH, json={**window, "user_ids": ids, "need_rsvp_status": True}))["freebusy_lists"]
    # An unreadable (private) calendar is left out, never "free"; someone who left fails the batch.
    for gone in (ZHAO_MIN_RESIGNED_OPEN_ID, EXTERNAL_OPEN_ID):
        fails(await api.post(BATCH, json={**window, "user_ids": [*ids, gone]}), 195100, 404)
    assert [entry["user_id"] for entry in lists] == [LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID]
    li_lei = lists[0]["freebusy_items"]
    one_on_one = {"start_time": rfc3339(lo + 14 * HOUR), "end_time": rfc3339(lo + 14.5 * HOUR), "rsvp_status": "accept"}
    assert one_on_one in li_lei
    assert all(set(item) == {"start_time", "end_time", "rsvp_status"} for item in li_lei)  # no titles
    assert all(item["start_time"].endswith("+08:00") for item in li_lei)


async def test_private_events_are_busy_without_titles(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    person = ZHANG_WEI_BACKEND_OPEN_ID
    private = [e for e in sb.world.events.values() if e.organizer_open_id == person and e.visibility == "private"]
    assert private
    window = {"time_min": rfc3339(WEEK_START), "time_max": rfc3339(WEEK_START + 7 * DAY)}
    items = ok(await api.post(BATCH, json={**window, "user_ids": [person]}))["freebusy_lists"][0]["freebusy_items"]
    assert len(items) == 4  # two weekly series on two days each, one of them private
    assert all(set(item) == {"start_time", "end_time"} for item in items)


async def test_list_free_busy_for_rooms_and_its_refusals(api: httpx2.AsyncClient) -> None:
    window = {"time_min": rfc3339(WEEK_START), "time_max": rfc3339(WEEK_START + 7 * DAY)}
    kunlun = ok(await api.post(LIST, json={**window, "room_id": ROOM_IDS[1], "need_rsvp_status": True}))
    assert kunlun["freebusy_list"] == [
        {
            "start_time": rfc3339(WEEK_START + 14 * HOUR),
            "end_time": rfc3339(WEEK_START + 14.5 * HOUR),
            "rsvp_status": "accept",
        }
    ]
    fails(await api.post(LIST, json={**window, "user_id": CHEN_JING_PRIVATE_OPEN_ID}), 191002, 403)
    fails(await api.post(LIST, json={**window, "user_id": EXTERNAL_OPEN_ID}), 195100, 404)
    long = {"time_min": rfc3339(WEEK_START), "time_max": rfc3339(WEEK_START + 91 * DAY), "user_id": LI_LEI_OPEN_ID}
    fails(await api.post(LIST, json=long), 190002, 400)


async def test_room_search_by_name_level_and_page(api: httpx2.AsyncClient) -> None:
    rooms = ok(await api.post(ROOMS, json={"keyword": "黄山"}))["rooms"]
    assert [r["name"] for r in rooms] == ["Huangshan 黄山"]
    assert rooms[0]["capacity"] == 6 and rooms[0]["path"][:2] == ["omb_sandbox0city0shanghai", "omb_sandbox0building0a"]
    assert ok(await api.post(ROOMS, json={"keyword": "Building B"}))["rooms"] == []  # names only by default
    in_b = ok(await api.post(ROOMS, json={"keyword": "Building B", "search_level_name": True, "page_size": 100}))
    assert len(in_b["rooms"]) == 4 and not in_b["has_more"]
    first = ok(await api.post(ROOMS, json={"keyword": "Building B", "search_level_name": True, "page_size": 2}))
    assert first["has_more"] and len(first["rooms"]) == 2
    boardroom = ok(await api.post(ROOMS, json={"keyword": "Wudang"}))["rooms"][0]
    assert "approval" in boardroom["description"]
    everything = ok(await api.post(ROOMS, json={"page_size": 100}))["rooms"]
    assert len(everything) == 10
    fails(await api.post(ROOMS, json={"page_token": "not-ours"}), 121003, 400)
    fails(await api.post(ROOMS, json={"keyword": "x", "page_size": 0}), 121003, 400)


async def test_suggestion_finds_common_free_time_in_working_hours(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    body = {
        "search_start_time": rfc3339(WEEK_START),
        "search_end_time": rfc3339(WEEK_START + 5 * DAY),
        "timezone": "Asia/Shanghai",
        "duration_minutes": 30,
        "attendee_user_ids": [LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID],
        "attendee_chat_ids": [DESIGN_CHAT_ID],
    }
    data = ok(await api.post(SUGGESTION, json=body))
    assert data["ai_action_guidance"] and 1 <= len(data["suggestions"]) <= 10
    lists = ok(
        await api.post(
            BATCH,
            json={
                "time_min": body["search_start_time"],
                "time_max": body["search_end_time"],
                "user_ids": [DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID],
            },
        )
    )["freebusy_lists"]
    busy = [(item["start_time"], item["end_time"]) for entry in lists for item in entry["freebusy_items"]]
    for slot in data["suggestions"]:
        start = dt.datetime.fromisoformat(slot["event_start_time"])
        end = dt.datetime.fromisoformat(slot["event_end_time"])
        assert start.timestamp() >= FIXED_NOW and (end - start) == dt.timedelta(minutes=30)
        assert start.weekday() < 5 and start.hour >= 9 and end.hour * 60 + end.minute <= 18 * 60
        overlaps = [
            b for b in busy if dt.datetime.fromisoformat(b[0]) < end and dt.datetime.fromisoformat(b[1]) > start
        ]
        assert not overlaps, (slot, overlaps)
    fails(await api.post(SUGGESTION, json={**body, "duration_minutes": 0}), 190002, 400)
    fails(await api.post(SUGGESTION, json={**body, "attendee_user_ids": ["li lei"]}), 190002, 400)


async def test_room_find_lists_free_rooms_for_one_slot(api: httpx2.AsyncClient) -> None:
    # Tuesday 14:00-15:00: the weekly sync (moved to the afternoon) holds Everest.
    slot = {
        "event_start_time": rfc3339(WEEK_START + DAY + 14 * HOUR),
        "event_end_time": rfc3339(WEEK_START + DAY + 15 * HOUR),
    }
    rooms = ok(await api.post(ROOM_FIND, json={**slot, "min_capacity": 6}))["available_rooms"]
    names = [r["room_name"] for r in rooms]
    assert "Everest 珠峰 (8)" not in names and "Huangshan 黄山" in names
    assert all(r["capacity"] >= 6 and r["reserve_until_time"] for r in rooms)
    in_b2 = ok(await api.post(ROOM_FIND, json={**slot, "building": "B", "floor": "F2"}))["available_rooms"]
    assert {r["room_name"] for r in in_b2} == {"Emei 峨眉", "Lushan 庐山", "Qingcheng 青城 phone booth"}


async def test_undocumented_endpoints_can_be_switched_off(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    sb.world.directory.undocumented_endpoints = False
    slot = {"event_start_time": rfc3339(WEEK_START + DAY), "event_end_time": rfc3339(WEEK_START + DAY + HOUR)}
    response = await api.post(ROOM_FIND, json=slot)
    assert response.status_code == 404 and response.json()["code"] == 99991201
    assert (await api.post(SUGGESTION, json={})).json()["code"] == 99991201
    sb.reset()
    assert sb.world.directory.undocumented_endpoints


async def test_calendar_list_has_own_shared_and_subscribed_calendars(api: httpx2.AsyncClient) -> None:
    calendars = ok(await api.get(V4 + "/calendars"))["calendar_list"]
    roles = {c["summary"]: (c["type"], c["role"]) for c in calendars}
    assert roles["Product team"] == ("shared", "writer")
    assert roles["Company holidays 公司假期"] == ("shared", "reader")
    assert any(c["calendar_id"] == HOLIDAYS_CALENDAR_ID for c in calendars)
    assert ("primary", "owner") in roles.values()
