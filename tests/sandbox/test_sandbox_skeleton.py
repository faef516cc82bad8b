"""The shared machinery: envelope, log id, authentication codes, request log, serving modes."""

from __future__ import annotations

import httpx2
import pytest

from sandbox import DEMO_PRIMARY_CALENDAR_ID, DEMO_USER_OPEN_ID, TEAM_CALENDAR_ID, Sandbox, running
from sandbox.seed_directory import HOLIDAYS_CALENDAR_ID

pytestmark = pytest.mark.anyio

PRIMARY = "/open-apis/calendar/v4/calendars/primary"


async def test_primary_calendar_in_the_envelope_with_a_logid(api: httpx2.AsyncClient) -> None:
    response = await api.post(PRIMARY)
    assert response.status_code == 200
    assert response.headers["x-tt-logid"]
    body = response.json()
    assert body["code"] == 0 and body["msg"] == "success"
    entry = body["data"]["calendars"][0]
    assert entry["user_id"] == DEMO_USER_OPEN_ID
    assert entry["calendar"]["calendar_id"] == DEMO_PRIMARY_CALENDAR_ID
    assert entry["calendar"]["type"] == "primary" and entry["calendar"]["role"] == "owner"


async def test_calendar_list_holds_primary_and_shared_and_a_sync_token(api: httpx2.AsyncClient) -> None:
    body = (await api.get("/open-apis/calendar/v4/calendars")).json()
    ids = {c["calendar_id"]: c["role"] for c in body["data"]["calendar_list"]}
    assert ids == {DEMO_PRIMARY_CALENDAR_ID: "owner", TEAM_CALENDAR_ID: "writer", HOLIDAYS_CALENDAR_ID: "reader"}
    assert body["data"]["has_more"] is False and body["data"]["sync_token"]


async def test_calendar_list_page_size_below_fifty_is_invalid(api: httpx2.AsyncClient) -> None:
    response = await api.get("/open-apis/calendar/v4/calendars", params={"page_size": 20})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 99992402  # the gateway's check of the documented range
    assert body["error"]["field_violations"][0]["field"] == "page_size"


async def test_no_token_is_99991661(anonymous: httpx2.AsyncClient) -> None:
    response = await anonymous.post(PRIMARY)
    assert response.json()["code"] == 99991661
    assert response.headers["x-tt-logid"] == response.json()["error"]["log_id"]


async def test_malformed_unknown_and_expired_tokens(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    assert (await anonymous.post(PRIMARY, headers=bearer("abc"))).json()["code"] == 99991671
    assert (await anonymous.post(PRIMARY, headers=bearer("u-not-issued"))).json()["code"] == 99991668
    token = sb.issue_user_token(DEMO_USER_OPEN_ID)
    assert (await anonymous.post(PRIMARY, headers=bearer(token))).json()["code"] == 0
    sb.advance(7200)
    assert (await anonymous.post(PRIMARY, headers=bearer(token))).json()["code"] == 99991677


async def test_missing_scope_is_99991679_with_permission_violations(sb: Sandbox, anonymous: httpx2.AsyncClient) -> None:
    token = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=["calendar:calendar.event:create"])
    response = await anonymous.post(PRIMARY, headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 403 and body["code"] == 99991679
    subjects = {v["subject"] for v in body["error"]["permission_violations"]}
    assert "calendar:calendar:readonly" in subjects


async def test_unknown_path_is_the_gateway_404(api: httpx2.AsyncClient) -> None:
    response = await api.get("/open-apis/calendar/v4/nothing")
    assert response.status_code == 404 and response.json()["code"] == 99991201
    assert response.headers["x-tt-logid"]


async def test_user_info_fields_follow_scopes(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    data = (await api.get("/open-apis/authen/v1/user_info")).json()["data"]
    assert data["open_id"] == DEMO_USER_OPEN_ID and data["email"] == "demo.user@sandbox.example"
    narrow = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=["calendar:calendar"])
    data = (await api.get("/open-apis/authen/v1/user_info", headers={"Authorization": f"Bearer {narrow}"})).json()
    assert "email" not in data["data"] and data["data"]["name"] == "演示用户"


async def test_request_log_masks_the_token(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    await api.get("/open-apis/calendar/v4/calendars", params={"page_size": "50"})
    entry = sb.log[-1]
    assert entry.method == "GET" and entry.path == "/open-apis/calendar/v4/calendars"
    assert entry.query == {"page_size": "50"}
    assert entry.headers["authorization"] == f"Bearer {sb.mask_token(sb.demo_token)}"
    assert sb.demo_token not in repr(entry)
    assert entry.status == 200 and entry.code == 0 and entry.logid
    sb.log.clear()
    assert len(sb.log) == 0


def test_running_serves_on_loopback(sb: Sandbox) -> None:
    with running(sb) as base_url, httpx2.Client(base_url=base_url) as http:
        assert base_url.startswith("http://127.0.0.1:")
        response = http.post(PRIMARY, headers={"Authorization": f"Bearer {sb.demo_token}"})
        assert response.json()["code"] == 0


async def test_an_empty_sandbox_is_built_by_hand() -> None:
    from sandbox import add_room, add_user

    sb = Sandbox(seed=False)
    with pytest.raises(LookupError):
        _ = sb.demo_user
    add_user(sb, "ou_alone0000000000000000000000001", "Alone", email="alone@example.com")
    add_room(sb, "omm_box", "Phone box", 1, "A", "1F")
    token = sb.issue_user_token("ou_alone0000000000000000000000001")
    async with sb.client(headers={"Authorization": f"Bearer {token}"}) as http:
        calendars = (await http.get("/open-apis/calendar/v4/calendars")).json()["data"]["calendar_list"]
    assert [c["summary"] for c in calendars] == ["Alone"]
