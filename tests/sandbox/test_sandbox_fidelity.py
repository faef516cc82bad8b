"""Where the sandbox once behaved unlike Feishu (issue 10, point 8), driven through the official SDK.

Each test states the documented behaviour (or, where the docs are silent, the sandbox's stated
assumption in sandbox/README.md) and checks it with lark-oapi against the sandbox on loopback.
"""

from __future__ import annotations

from typing import Any

from lark_oapi.api.calendar.v4 import (
    CreateCalendarEventRequest,
    EventSearchFilter,
    ListCalendarEventRequest,
    SearchCalendarEventRequest,
    SearchCalendarEventRequestBody,
)

from sandbox import DEMO_PRIMARY_CALENDAR_ID
from tests.sandbox.helpers_sandbox import DAY, FIXED_NOW, HOUR
from tests.sandbox.lark_sdk import new_event, parsed, when


def list_request(**query: Any) -> Any:
    builder = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID)
    for name, value in query.items():
        builder = getattr(builder, name)(value)
    return builder.build()


def test_a_unicode_digit_is_not_a_timestamp(client: Any, as_demo: Any) -> None:
    # "¹".isdigit() is True in Python but int("¹") fails: this once answered 500.
    refused = client.calendar.v4.calendar_event.list(list_request(start_time="¹", end_time="1795399200"), as_demo)
    assert refused.code == 190002 and refused.error["field_violations"][0]["field"] == "start_time"


def probe(client: Any, option: Any, summary: str, start: int, **extra: Any) -> Any:
    event = new_event(summary, start, start + HOUR, **extra)
    request = CreateCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(event)
    return parsed(client.calendar.v4.calendar_event.create(request.build(), option)).event


def search(client: Any, option: Any, text: str, search_filter: Any = None) -> list[str]:
    body = SearchCalendarEventRequestBody.builder().query(text)
    if search_filter is not None:
        body = body.filter(search_filter)
    request = SearchCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).request_body(body.build())
    return [e.summary for e in parsed(client.calendar.v4.calendar_event.search(request.build(), option)).items or []]


def test_search_without_a_time_filter_covers_the_recent_month(client: Any, as_demo: Any) -> None:
    # search.md: without start_time and end_time the search covers "近一个月" (the recent month).
    now = int(FIXED_NOW)
    for name, start in (("probe -40d", now - 40 * DAY), ("probe -10d", now - 10 * DAY), ("probe +1d", now + DAY)):
        probe(client, as_demo, name, start)
    assert search(client, as_demo, "probe") == ["probe -10d"]
    everything = EventSearchFilter.builder().start_time(when(now - 60 * DAY)).end_time(when(now + 60 * DAY)).build()
    assert search(client, as_demo, "probe", everything) == ["probe -40d", "probe -10d", "probe +1d"]
    from_now_on = EventSearchFilter.builder().start_time(when(now)).build()  # one bound: the other side is open
    assert search(client, as_demo, "probe", from_now_on) == ["probe +1d"]
