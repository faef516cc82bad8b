"""Meeting-room free/busy: busy slots come from the events that book each room."""

from __future__ import annotations

import datetime as dt

import httpx2
import lark_oapi as lark
import pytest

from sandbox import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_USER_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    WEEKLY_SYNC_UID,
    Sandbox,
    running,
)
from tests.sandbox.helpers_sandbox import (
    DAY,
    FREEBUSY,
    HOUR,
    WEEK_START,
    bearer,
    busy,
    create,
    event_path,
    fails,
    ok,
    query,
    rfc3339,
    timed,
)
from tests.sandbox.lark_sdk import as_user, sdk_client

pytestmark = pytest.mark.anyio

EVEREST, KUNLUN, TAISHAN = ROOM_IDS


async def test_the_seed_week_of_every_room(api: httpx2.AsyncClient) -> None:
    data = ok(await api.get(FREEBUSY, params=query(list(ROOM_IDS), WEEK_START, WEEK_START + 5 * DAY)))
    assert data["time_min"] == "2026-11-23T00:00:00+08:00" and data["time_max"] == "2026-11-28T00:00:00+08:00"
    everest, kunlun, taishan = (data["free_busy"][r] for r in ROOM_IDS)
    # The weekly sync moved to 14:00 this Tuesday; the retro on Friday.
    assert [(s["start_time"], s["end_time"]) for s in everest] == [
        ("2026-11-24T14:00:00+08:00", "2026-11-24T15:00:00+08:00"),
        ("2026-11-27T15:00:00+08:00", "2026-11-27T16:00:00+08:00"),
    ]
    assert everest[0]["uid"] == WEEKLY_SYNC_UID and everest[0]["original_time"] == WEEK_START + DAY + 10 * HOUR
    assert everest[1]["original_time"] == 0 and everest[1]["organizer_info"]["open_id"] == LI_LEI_OPEN_ID
    assert kunlun[0]["start_time"] == "2026-11-23T14:00:00+08:00"
    assert kunlun[0]["organizer_info"] == {"name": "演示用户", "open_id": DEMO_USER_OPEN_ID}
    assert taishan[0]["organizer_info"]["open_id"] == HAN_MEIMEI_OPEN_ID


async def test_recurring_bookings_expand_and_cancelled_occurrences_are_free(api: httpx2.AsyncClient) -> None:
    next_tuesday = WEEK_START + 8 * DAY
    assert [s["start_time"] for s in await busy(api, EVEREST, next_tuesday, next_tuesday + DAY)] == [
        "2026-12-01T10:00:00+08:00"
    ]
    # The occurrence two weeks ahead was cancelled.
    assert await busy(api, EVEREST, next_tuesday + 7 * DAY, next_tuesday + 8 * DAY) == []


async def test_times_follow_the_offset_of_time_min(api: httpx2.AsyncClient) -> None:
    params = {"room_ids": KUNLUN, "time_min": rfc3339(WEEK_START, dt.UTC), "time_max": rfc3339(WEEK_START + DAY)}
    [slot] = ok(await api.get(FREEBUSY, params=params))["free_busy"][KUNLUN]
    assert slot["start_time"] == "2026-11-23T06:00:00+00:00"


async def test_booking_releasing_and_private_events(api: httpx2.AsyncClient) -> None:
    start = WEEK_START + 3 * DAY + 9 * HOUR
    event = await create(api, **timed(start, start + HOUR, summary="Private chat", visibility="private"))
    attendees = event_path(event["event_id"]) + "/attendees"
    ok(await api.post(attendees, json={"attendees": [{"type": "resource", "room_id": TAISHAN}]}))
    [slot] = await busy(api, TAISHAN, start, start + HOUR)
    assert slot["uid"] == event["event_id"].rsplit("_", 1)[0] and "organizer_info" not in slot
    ok(await api.post(attendees + "/batch_delete", json={"delete_ids": [{"type": "resource", "room_id": TAISHAN}]}))
    assert await busy(api, TAISHAN, start, start + HOUR) == []
    ok(await api.post(attendees, json={"attendees": [{"type": "resource", "room_id": TAISHAN}]}))
    ok(await api.delete(event_path(event["event_id"])))
    assert await busy(api, TAISHAN, start, start + HOUR) == []


async def test_declined_bookings_leave_the_room_free(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    start = WEEK_START + 14 * HOUR  # Kunlun is held by the 1:1 until 14:30
    event = await create(api, **timed(start + 900, start + 2 * HOUR))
    attendees = event_path(event["event_id"]) + "/attendees"
    ok(await api.post(attendees, json={"attendees": [{"type": "resource", "room_id": KUNLUN}]}))
    assert [s["uid"] for s in await busy(api, KUNLUN, start, start + 2 * HOUR)] == [
        "sandbox0one0on0one0lilei0000000002"
    ]


async def test_validation(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    lo, hi = WEEK_START, WEEK_START + DAY
    fails(await api.get(FREEBUSY, params=query([], lo, hi)), 190002, 400)
    fails(await api.get(FREEBUSY, params=query([EVEREST] * 21, lo, hi)), 190002, 400)
    fails(await api.get(FREEBUSY, params=query(["omm_nowhere"], lo, hi)), 190002, 400)
    fails(await api.get(FREEBUSY, params=query([EVEREST], hi, lo)), 190002, 400)
    fails(await api.get(FREEBUSY, params={"room_ids": EVEREST, "time_max": rfc3339(hi)}), 190002, 400)
    naive = {"room_ids": EVEREST, "time_min": "2026-11-23T00:00:00", "time_max": rfc3339(hi)}
    assert fails(await api.get(FREEBUSY, params=naive), 190002)["error"]["field_violations"][0]["field"] == "time_min"
    # An offset whose '+' was not URL-encoded arrives as a space.
    raw = f"{FREEBUSY}?room_ids={EVEREST}&time_min=2026-11-23T00:00:00+08:00&time_max=2026-11-24T00:00:00%2B08:00"
    fails(await api.get(raw), 190002, 400)
    narrow = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=["calendar:calendar"])
    fails(await api.get(FREEBUSY, params=query([EVEREST], lo, hi), headers=bearer(narrow)), 99991679, 403)


async def test_the_app_identity_reads_room_freebusy_too(api: httpx2.AsyncClient) -> None:
    reply = await api.post(
        "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}
    )
    app = bearer(reply.json()["tenant_access_token"])
    data = ok(await api.get(FREEBUSY, params=query([KUNLUN], WEEK_START, WEEK_START + DAY), headers=app))
    assert len(data["free_busy"][KUNLUN]) == 1


def test_sdk_raw_request_parses(sb: Sandbox) -> None:
    # The SDK has no model for this older API; its generic request is how SDK users call it.
    with running(sb) as base_url:
        request = (
            lark.BaseRequest.builder()
            .http_method(lark.HttpMethod.GET)
            .uri(FREEBUSY)
            .token_types({lark.AccessTokenType.USER})
            .queries(query([KUNLUN, TAISHAN], WEEK_START, WEEK_START + 2 * DAY))
            .build()
        )
        response = sdk_client(base_url).request(request, as_user(sb.demo_token))
        assert response.code == 0, response.msg
        body = lark.JSON.unmarshal(response.raw.content, dict)
        assert [s["start_time"] for s in body["data"]["free_busy"][TAISHAN]] == ["2026-11-24T16:00:00+08:00"]
        assert len(body["data"]["free_busy"][KUNLUN]) == 1
