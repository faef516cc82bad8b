"""Where the sandbox once behaved unlike Feishu (issue 10, point 8), driven through the official SDK.

Each test states the documented behaviour (or, where the docs are silent, the sandbox's stated
assumption in sandbox/README.md) and checks it with lark-oapi against the sandbox on loopback.
"""

from __future__ import annotations

from typing import Any

from lark_oapi.api.calendar.v4 import ListCalendarEventRequest

from sandbox import DEMO_PRIMARY_CALENDAR_ID


def list_request(**query: Any) -> Any:
    builder = ListCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID)
    for name, value in query.items():
        builder = getattr(builder, name)(value)
    return builder.build()


def test_a_unicode_digit_is_not_a_timestamp(client: Any, as_demo: Any) -> None:
    # "¹".isdigit() is True in Python but int("¹") fails: this once answered 500.
    refused = client.calendar.v4.calendar_event.list(list_request(start_time="¹", end_time="1795399200"), as_demo)
    assert refused.code == 190002 and refused.error["field_violations"][0]["field"] == "start_time"
