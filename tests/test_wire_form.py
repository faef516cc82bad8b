"""Results are built once: the wire form equals the model's JSON dump, without copying Feishu's data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from server.registry import build_tool, wire_form
from tools import OPERATIONS
from tools.common.outputs import EventPage, event_page, event_result, with_rendered_times
from tools.context import CurrentContext, DayRange


class _Slot(BaseModel):
    start: str
    end: str


class _Aliased(BaseModel):
    slot_list: list[_Slot] = Field(serialization_alias="slots")
    mixed: list[Any] = []
    note: str | None = None


def test_wire_form_is_the_json_dump_of_every_kind_of_field() -> None:
    day = DayRange(start="2026-12-05T00:00:00+08:00", end="2026-12-05T23:59:59+08:00")
    context = CurrentContext(user={"name": "演示"}, timezone="Asia/Shanghai", now="x", today=day, tomorrow=day)
    page = EventPage(items=[{"event_id": "e1", "start": "2026-12-05T10:00:00+08:00", "attendees": [{"a": 1}]}])
    aliased = _Aliased(slot_list=[_Slot(start="a", end="b")], mixed=[1, _Slot(start="c", end="d")])
    for result in (context, page, aliased):
        assert wire_form(result) == result.model_dump(mode="json", by_alias=True)


def test_feishu_data_is_sent_as_parsed_not_copied() -> None:
    item = {"event_id": "e1", "attendees": [{"type": "user"}]}
    page = EventPage(items=[item])
    assert wire_form(page)["items"] is page.items  # the page's own list, not a copy of it


def test_output_schemas_are_published_but_results_not_validated_twice() -> None:
    for op in OPERATIONS:
        tool = build_tool(op)
        assert tool.output_schema is not None and tool.output_schema.get("type") == "object", op.name
        assert tool.fn_metadata.output_model is None, op.name  # the SDK's second pass is off


# Feishu answers as they come, odd ones included: each must shape to what validation would make.
EVENT = {
    "event_id": "e1_0",
    "summary": "周会",
    "description": "",
    "location": {"name": "Everest"},
    "start_time": {"timestamp": "1794103200", "timezone": "Asia/Shanghai"},
    "end_time": {"date": "2026-11-24"},
    "attendees": [{"type": "user"}],
}
ANSWERS: list[dict[str, Any]] = [
    {"items": [EVENT, {**EVENT, "event_id": "e2_0", "summary": None}], "has_more": True, "page_token": "p"},
    {"items": [], "sync_token": "s", "has_more": False},
    {"items": None, "page_token": None},
    {"items": [EVENT, "not an event", 3], "has_more": "yes", "page_token": 12},
    {},
    {"event": EVENT, "notes": ["moved", 2]},
    {"event": None, "notes": "not a list"},
]


def test_event_results_are_built_as_validation_would_make_them() -> None:
    for data in ANSWERS:
        for built in (event_page(None, data), event_result(None, data)):
            validated = type(built).model_validate(built.model_dump())
            assert built == validated and wire_form(built) == wire_form(validated), data
            assert wire_form(built) == validated.model_dump(mode="json", by_alias=True)
            assert list(wire_form(built)) == list(type(built).model_fields)  # every field, in order


def test_free_text_moves_under_external_content_keeping_the_order_of_the_rest() -> None:
    shaped = with_rendered_times(EVENT)
    assert list(shaped) == ["event_id", "start_time", "end_time", "attendees", "start", "end", "external_content"]
    assert shaped["external_content"] == {"summary": "周会", "location": {"name": "Everest"}}  # "" is left out
    assert shaped["start"] == "2026-11-08T10:00:00+08:00" and shaped["end"] == "2026-11-24"
    assert EVENT["summary"] == "周会"  # Feishu's dict is not changed
