"""Tool results: Feishu's own fields, plus RFC 3339 renderings of event times.

Result schemas stay deliberately small (objects of Feishu's fields, documented in
feishu-api.md) because every output schema is paid for in the model's context.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.common.times import render_time_info

JsonObject = dict[str, Any]


# Free text that people (often other people) wrote: a model must read it as data, never as
# instructions. It is moved under one clearly named key so no prompt injection hides in plain sight.
EXTERNAL_TEXT = ("summary", "description", "location")
EXTERNAL_KEY = "external_content"
_NO_TEXT: tuple[object, ...] = (None, "", {})  # nothing written: no external_content entry


def with_rendered_times(event: Any) -> JsonObject:
    """A Feishu event/instance for the model: Feishu's fields, ``start``/``end`` as RFC 3339 in the
    event's own timezone, and the free text people wrote under ``external_content``."""
    if not isinstance(event, dict):
        return {}
    # A copy with the free text taken out as it is gathered: the same keys in the same order as
    # filtering key by key, at a fraction of the cost (a page shapes every event: ~2.5 ms for 1,000).
    out = dict(event)
    external: JsonObject = {}
    for key in EXTERNAL_TEXT:
        value = out.pop(key, None)
        if value not in _NO_TEXT:
            external[key] = value
    for key, wire in (("start", "start_time"), ("end", "end_time")):
        rendered = render_time_info(event.get(wire))
        if rendered is not None:
            out[key] = rendered
    if external:
        out[EXTERNAL_KEY] = external
    return out


class EventResult(BaseModel):
    event: Annotated[JsonObject, Field(description="Feishu event; start/end as RFC 3339; text in external_content.")]
    warnings: Annotated[list[str], Field(description="Notes: overlaps; what a series edit did.")] = []


class EventPage(BaseModel):
    items: list[JsonObject]
    has_more: bool = False
    page_token: str = ""
    sync_token: Annotated[str, Field(description="Pass back later for changes only.")] = ""


class ItemPage(BaseModel):
    items: list[JsonObject]
    has_more: bool = False
    page_token: str = ""
    warnings: list[str] = []  # e.g. an attendee change a late request undid (server/writes.py)


class Done(BaseModel):
    ok: bool = True
    detail: str = ""


class FeishuData(BaseModel):
    """An operation's ``data`` object as Feishu returned it."""

    data: JsonObject


# Event results are built, not validated (``model_construct``): each field is made here as the type
# the model declares (a dict, a list of dicts, a list of str, bool, str), so validation could never
# fail and would only copy every event dict once more (~1 µs an event) before it is sent.
# tests/test_wire_form.py checks that each is what validation would have made.


def event_result(_: object, data: JsonObject) -> EventResult:
    # A series edit (tools/common/recurring.py) says what it did to each part.
    notes = [str(n) for n in data.get("notes") or []] if isinstance(data.get("notes"), list) else []
    return EventResult.model_construct(event=with_rendered_times(data.get("event")), warnings=notes)


def event_page(_: object, data: JsonObject) -> EventPage:
    return EventPage.model_construct(
        items=[with_rendered_times(e) for e in data.get("items") or []],
        has_more=bool(data.get("has_more")),
        page_token=str(data.get("page_token") or ""),
        sync_token=str(data.get("sync_token") or ""),
    )


def item_page(_: object, data: JsonObject) -> ItemPage:
    return ItemPage(
        items=list(data.get("items") or []),
        has_more=bool(data.get("has_more")),
        page_token=str(data.get("page_token") or ""),
    )


def feishu_data(_: object, data: JsonObject) -> FeishuData:
    return FeishuData(data=data)


def done(detail: str) -> Any:
    def respond(_: object, __: JsonObject) -> Done:
        return Done(detail=detail)

    return respond
