"""Whatever a client sends, the event routes answer with Feishu's envelope, never a crash (5xx)."""

from __future__ import annotations

import base64
from typing import Any

import anyio
import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import DEMO_PRIMARY_CALENDAR_ID, ROOM_IDS, WEEKLY_SYNC_UID, Sandbox
from server.clock import VirtualClock
from tests.sandbox.helpers_sandbox import FIXED_NOW, bearer

EVENTS = f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events"
ROUTES = (
    ("POST", EVENTS),
    ("GET", EVENTS),
    ("POST", EVENTS + "/search"),
    ("GET", EVENTS + "/instance_view"),
    ("GET", f"{EVENTS}/{WEEKLY_SYNC_UID}_0"),
    ("PATCH", f"{EVENTS}/{WEEKLY_SYNC_UID}_0"),
    ("GET", f"{EVENTS}/{WEEKLY_SYNC_UID}_0/instances"),
    ("POST", f"{EVENTS}/sandbox0design0review00000000003_0/reply"),
    ("DELETE", f"{EVENTS}/sandbox0focus0time00000000000008_0"),
    ("GET", "/open-apis/calendar/v4/calendars"),
)
FIELDS = (
    "summary",
    "start_time",
    "end_time",
    "visibility",
    "location",
    "color",
    "reminders",
    "recurrence",
    "schemas",
    "attachments",
    "vchat",
    "event_check_in",
    "query",
    "filter",
    "rsvp_status",
)
QUERY = ("page_size", "page_token", "sync_token", "start_time", "end_time", "anchor_time", "user_id_type")
# Python reads more as a number than Feishu does: int() takes any Unicode digit, spaces and
# underscores, "¹".isdigit() is True though int("¹") fails, fromisoformat takes week dates. Each of
# these once crashed a route (500) or was quietly accepted; Feishu refuses them all.
# Superscript one, Arabic-Indic 120, fullwidth 60 (escaped: they look like ASCII digits).
NOT_NUMBERS = ("\u00b9", "\u0661\u0662\u0660", " 60", "6_0", "\uff16\uff10")
QUERY_VALUES = st.text(max_size=12) | st.sampled_from(NOT_NUMBERS)
TIMES = st.fixed_dictionaries(
    {}, optional={"timestamp": st.sampled_from(["1795399200", "x", "-1", ""]), "date": st.text(max_size=12)}
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=20) | TIMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3),
    max_leaves=8,
)

SB = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))  # shared by the examples: state piles up, as in use


def send(method: str, path: str, **kwargs: Any) -> httpx2.Response:
    """One request through the in-process transport (hypothesis drives plain functions)."""

    async def request() -> httpx2.Response:
        async with SB.client(headers=bearer(SB.demo_token)) as client:
            return await client.request(method, path, **kwargs)

    return anyio.run(request)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(ROUTES),
    body=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5),
    query=st.dictionaries(st.sampled_from(QUERY), QUERY_VALUES, max_size=3),
)
def test_no_body_or_query_crashes_a_route(route: tuple[str, str], body: dict[str, Any], query: dict[str, str]) -> None:
    method, path = route
    response = send(method, path, params=query, json=body)
    assert response.status_code < 500, response.text
    assert isinstance(response.json()["code"], int)


FREEBUSY = "/open-apis/meeting_room/freebusy/batch_get"


def code_of(method: str, path: str, **kwargs: Any) -> tuple[int, int]:
    response = send(method, path, **kwargs)
    return response.status_code, response.json()["code"]


def test_integer_query_parameters_take_ascii_digits_only() -> None:
    for raw in NOT_NUMBERS:
        # page_size is an int on the wire: the gateway refuses it before the calendar service.
        assert code_of("GET", EVENTS, params={"page_size": raw}) == (400, 99992402), raw
        # start_time and anchor_time are strings the calendar service reads as Unix seconds.
        assert code_of("GET", EVENTS, params={"start_time": raw, "end_time": "1795399200"}) == (400, 190002), raw
        assert code_of("GET", EVENTS, params={"anchor_time": raw}) == (400, 190002), raw
    assert code_of("GET", EVENTS, params={"page_size": "+60"})[1] == 0  # a sign is still a number


def test_ids_and_times_in_bodies_and_paths_take_ascii_digits_only() -> None:
    assert code_of("GET", f"{EVENTS}/{WEEKLY_SYNC_UID}_\u0661\u0667\u0669\u0665") == (400, 193000)
    assert code_of("GET", f"{EVENTS}/{WEEKLY_SYNC_UID}_0%0A") == (400, 193000)
    for stamp in NOT_NUMBERS:
        body = {"start_time": {"timestamp": stamp}, "end_time": {"timestamp": "1795402800"}}
        assert code_of("POST", EVENTS, json=body) == (400, 190002), stamp
    for day in ("2026-W48-1", "20261123", "\uff12\uff10\uff12\uff16-11-23"):
        body = {"start_time": {"date": day}, "end_time": {"date": "2026-11-24"}}
        assert code_of("POST", EVENTS, json=body) == (400, 190002), day


def test_room_free_busy_times_must_be_rfc3339() -> None:
    rooms = {"room_ids": ROOM_IDS[0]}
    for when in ("2026-W48-1T10:00:00+08:00", "20261123T100000+0800", "2026-11-23 10:00:00+08:00"):
        query = {**rooms, "time_min": when, "time_max": "2026-11-24T10:00:00+08:00"}
        assert code_of("GET", FREEBUSY, params=query) == (400, 190002), when


def test_directory_routes_read_tokens_and_times_as_feishu_does() -> None:
    forged = base64.urlsafe_b64encode(b"usersearch:x").decode()
    for token in (forged, base64.urlsafe_b64encode("usersearch:\u0661".encode()).decode()):
        status, code = code_of("GET", "/open-apis/search/v1/user", params={"query": "li", "page_token": token})
        assert status == 400 and code != 0, token
    for token in ("\u00b9", "\u0661"):
        status, code = code_of("POST", "/open-apis/vc/v1/rooms/search", json={"page_token": token})
        assert status == 400 and code != 0, token
    week_date = {"time_min": "2026-W48-1T10:00:00+08:00", "time_max": "2026-11-24T10:00:00+08:00"}
    assert code_of("POST", "/open-apis/calendar/v4/freebusy/list", json=week_date) == (400, 190002)


def test_patterns_take_ascii_digits_and_no_trailing_newline() -> None:
    for password in ("\u0661\u0662\u0663\u0664", "1234\n"):
        vchat = {"vc_type": "vc", "meeting_settings": {"password": password}}
        body = {"start_time": {"timestamp": "1795399200"}, "end_time": {"timestamp": "1795402800"}, "vchat": vchat}
        assert code_of("POST", EVENTS, json=body) == (400, 195112), password
    assert code_of("GET", f"/open-apis/calendar/v4/calendars/{DEMO_PRIMARY_CALENDAR_ID}%0A/events")[1] != 0
