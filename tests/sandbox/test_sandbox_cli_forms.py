"""The scheduling endpoints in the exact forms Feishu's official CLI (larksuite/cli) sends them.

The CLI formats times with Go's ``time.RFC3339`` (``Z`` for UTC), leaves out empty fields
(``omitempty``: no ``duration_minutes`` when it cannot tell one), adds the caller to the attendees,
sends ``page_size`` as a number clamped to 1-200 for people search, and may send an empty
``user_id_type``. Each answer must be one the CLI can read.
"""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest

from sandbox import DEMO_APP_ID, DEMO_APP_SECRET, DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, Sandbox
from sandbox.seed_directory import DESIGN_CHAT_ID
from tests.sandbox.helpers_sandbox import DAY, HOUR, V4, WEEK_START, bearer, fails, ok

pytestmark = pytest.mark.anyio


def go_rfc3339(seconds: int) -> str:
    """Go's ``time.Unix(s, 0).Format(time.RFC3339)`` on a machine whose zone is UTC."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_suggestion_without_a_duration_as_the_cli_leaves_it_out(api: httpx2.AsyncClient) -> None:
    body = {  # calendar_suggestion.go: SuggestionRequest, omitempty everywhere
        "search_start_time": go_rfc3339(WEEK_START + DAY),
        "search_end_time": go_rfc3339(WEEK_START + 2 * DAY - 1),
        "attendee_user_ids": [LI_LEI_OPEN_ID, DEMO_USER_OPEN_ID],
        "attendee_chat_ids": [DESIGN_CHAT_ID],
    }
    data = ok(await api.post(V4 + "/freebusy/suggestion", json=body))
    assert data["suggestions"] and isinstance(data["ai_action_guidance"], str)
    for slot in data["suggestions"]:
        start, end = (dt.datetime.fromisoformat(slot[k]) for k in ("event_start_time", "event_end_time"))
        assert end > start and slot["recommend_reason"]


async def test_room_find_with_z_times_and_the_caller_among_attendees(api: httpx2.AsyncClient) -> None:
    body = {  # calendar_room_find.go: roomFindRequest
        "event_start_time": go_rfc3339(WEEK_START + DAY + 6 * HOUR),
        "event_end_time": go_rfc3339(WEEK_START + DAY + 7 * HOUR),
        "min_capacity": 6,
        "attendee_user_ids": [LI_LEI_OPEN_ID, DEMO_USER_OPEN_ID],
    }
    rooms = ok(await api.post(V4 + "/freebusy/room_find", json=body))["available_rooms"]
    assert rooms and all({"room_id", "room_name", "capacity", "reserve_until_time"} <= set(r) for r in rooms)
    assert all(isinstance(r["capacity"], int) and r["capacity"] >= 6 for r in rooms)


async def test_free_busy_list_as_the_cli_asks_it(api: httpx2.AsyncClient) -> None:
    body = {  # calendar_freebusy.go
        "time_min": go_rfc3339(WEEK_START),
        "time_max": go_rfc3339(WEEK_START + DAY),
        "user_id": LI_LEI_OPEN_ID,
        "need_rsvp_status": True,
    }
    items = ok(await api.post(V4 + "/freebusy/list", json=body))["freebusy_list"]
    assert items and all(i["rsvp_status"] in ("needs_action", "accept", "tentative") for i in items)
    assert all(i["start_time"].endswith("Z") or i["start_time"].endswith("+00:00") for i in items)


async def test_people_search_pages_as_the_cli_walks_them(api: httpx2.AsyncClient) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"query": "a", "page_size": 5}  # contact_search_user.go
    while True:
        data = ok(await api.get("/open-apis/search/v1/user", params=params))
        seen += [u["open_id"] for u in data["users"]]
        if not data["has_more"]:
            assert "page_token" not in data
            break
        params["page_token"] = data["page_token"]
    assert len(seen) == len(set(seen)) > 5
    fails(await api.get("/open-apis/search/v1/user", params={"query": "a", "page_size": 201}), 99992402, 400)


async def test_profiles_as_the_cli_reads_them_per_identity(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    # contact_get_user.go: a user identity reads basic_batch (user_id_type may be sent empty) ...
    token = sb.issue_user_token(DEMO_USER_OPEN_ID, ["contact:user.basic_profile:readonly"])
    basic = await api.post(
        "/open-apis/contact/v3/users/basic_batch",
        params={"user_id_type": ""},
        json={"user_ids": [LI_LEI_OPEN_ID]},
        headers=bearer(token),
    )
    names = {"zh_cn": "李雷", "en_us": "Li Lei"}
    assert ok(basic)["users"] == [{"user_id": LI_LEI_OPEN_ID, "name": "李雷", "i18n_name": names}]
    # ... a bot identity reads the profile, wrapped in "user" (without department_path: get.md).
    grant = await api.post(
        "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}
    )
    tenant = grant.json()["tenant_access_token"]
    user = ok(
        await api.get(
            f"/open-apis/contact/v3/users/{LI_LEI_OPEN_ID}", params={"user_id_type": "open_id"}, headers=bearer(tenant)
        )
    )["user"]
    assert user["open_id"] == LI_LEI_OPEN_ID and "department_path" not in user
