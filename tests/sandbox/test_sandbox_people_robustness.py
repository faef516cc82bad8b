"""Whatever a client sends, the attendee, meeting, room and account routes answer with Feishu's
envelope, never a crash (5xx). The event routes have the same property in test_sandbox_robustness.py."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import ADMIN_OPEN_ID, DEMO_CHAT_ID, DEMO_PRIMARY_CALENDAR_ID, LI_LEI_OPEN_ID, ROOM_IDS, WEEKLY_SYNC_UID
from tests.sandbox.helpers_sandbox import bearer
from tests.sandbox.test_sandbox_robustness import FINITE, SB, send

V4 = "/open-apis/calendar/v4"
EVENT = f"{V4}/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events/{WEEKLY_SYNC_UID}_0"
ROUTES = (
    ("POST", EVENT + "/attendees"),
    ("POST", EVENT + "/attendees/batch_delete"),
    ("GET", EVENT + "/attendees"),
    ("GET", EVENT + "/attendees/chat_sandbox0product0team0chat00001/chat_members"),
    ("POST", EVENT + "/meeting_chat"),
    ("DELETE", EVENT + "/meeting_chat"),
    ("POST", EVENT + "/meeting_minute"),
    ("GET", "/open-apis/meeting_room/freebusy/batch_get"),
    ("POST", f"{V4}/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events/subscription"),
    ("POST", f"{V4}/calendars/{DEMO_PRIMARY_CALENDAR_ID}/events/unsubscription"),
    ("POST", V4 + "/settings/generate_caldav_conf"),
    ("POST", V4 + "/exchange_bindings"),
    ("GET", V4 + "/exchange_bindings/YWRtaW5AY29ycC5leGFtcGxlIGxpLmxlaUBjb3JwLmV4YW1wbGU="),
    ("DELETE", V4 + "/exchange_bindings/YWRtaW5AY29ycC5leGFtcGxlIGxpLmxlaUBjb3JwLmV4YW1wbGU="),
)
FIELDS = (
    "attendees",
    "attendee_ids",
    "delete_ids",
    "need_notification",
    "instance_start_time_admin",
    "is_enable_admin",
    "add_operator_to_attendee",
    "type",
    "user_id",
    "chat_id",
    "room_id",
    "third_party_email",
    "is_optional",
    "operate_id",
    "resource_customization",
    "approval_reason",
    "index_key",
    "device_name",
    "admin_account",
    "exchange_account",
)
QUERY = (
    "page_size",
    "page_token",
    "user_id_type",
    "need_resource_customization",
    "meeting_chat_id",
    "room_ids",
    "time_min",
    "time_max",
)
# Values that pass the first checks, so the examples reach the deeper ones.
KNOWN = st.sampled_from(
    [
        "user",
        "chat",
        "resource",
        "third_party",
        LI_LEI_OPEN_ID,
        DEMO_CHAT_ID,
        ROOM_IDS[1],
        "a@corp.example",
        "1",
        "2026-11-23T10:00:00+08:00",
    ]
)
VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=12) | KNOWN,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=10,
)
ADMIN_TOKEN = SB.issue_user_token(ADMIN_OPEN_ID)  # the super-admin reaches past the Exchange admin check


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(ROUTES),
    body=st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=5),
    query=st.dictionaries(st.sampled_from(QUERY), st.text(max_size=12) | KNOWN, max_size=3),
    as_admin=st.booleans(),
)
def test_no_body_or_query_crashes_a_route(
    route: tuple[str, str], body: dict[str, Any], query: dict[str, str], as_admin: bool
) -> None:
    method, path = route
    headers = bearer(ADMIN_TOKEN) if as_admin else {}
    response = send(method, path, params=query, json=body, headers=headers)
    assert response.status_code < 500, response.text
    assert isinstance(response.json()["code"], int)
