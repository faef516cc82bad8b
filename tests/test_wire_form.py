"""Results are built once: the wire form equals the model's JSON dump, without copying Feishu's data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from server.registry import build_tool, wire_form
from tools import OPERATIONS
from tools.common.outputs import EventPage
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
