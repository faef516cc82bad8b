"""Whatever a client sends, the event routes answer with Feishu's envelope, never a crash (5xx)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import DEMO_PRIMARY_CALENDAR_ID, WEEKLY_SYNC_UID, Sandbox
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
    query=st.dictionaries(st.sampled_from(QUERY), st.text(max_size=12), max_size=3),
)
def test_no_body_or_query_crashes_a_route(route: tuple[str, str], body: dict[str, Any], query: dict[str, str]) -> None:
    method, path = route
    response = send(method, path, params=query, json=body)
    assert response.status_code < 500, response.text
    assert isinstance(response.json()["code"], int)
