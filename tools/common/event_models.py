"""The event body shared by create_event and update_event, with Feishu's rules on it."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from tools.common import times
from tools.common.fields import (
    NOT_BOOLEAN,
    AttendeeAbility,
    FreeBusyStatus,
    NeedNotification,
    TimeValue,
    Timezone,
    Visibility,
)
from tools.spec import Input


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Location(Part):
    name: Annotated[str | None, Field(min_length=1, max_length=512, description="Place name.")] = None
    address: Annotated[str | None, Field(min_length=1, max_length=255, description="Street address.")] = None
    latitude: Annotated[float | None, Field(ge=-90, le=90, description="GCJ-02 in China, else WGS84.")] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None


class VChat(Part):
    vc_type: Annotated[
        Literal["vc", "third_party", "no_meeting"] | None,
        Field(description="vc = Feishu meeting, no_meeting = none, third_party = meeting_url."),
    ] = None
    icon_type: Literal["vc", "live", "default"] | None = None
    description: Annotated[str | None, Field(max_length=500)] = None
    meeting_url: Annotated[str | None, Field(min_length=1, max_length=2000)] = None


class UiSchema(Part):
    ui_name: Literal[
        "ForwardIcon",
        "MeetingChatIcon",
        "MeetingMinutesIcon",
        "MeetingVideo",
        "RSVP",
        "Attendee",
        "OrganizerOrCreator",
    ]
    ui_status: Literal["hide", "readonly", "editable", "unknown"] = "hide"


class Attachment(Part):
    file_token: Annotated[str, Field(min_length=1, max_length=512)]
    is_deleted: bool | None = None


def _minutes_not_object(value: Any) -> Any:
    # Feishu's own shape; pydantic's "Input should be a valid integer" named no fix.
    if isinstance(value, dict):
        raise ValueError("a reminder is its minutes as a number: reminders=[15], not [{'minutes': 15}]")
    return value


Reminder = Annotated[int, Field(ge=-20160, le=20160), NOT_BOOLEAN, BeforeValidator(_minutes_not_object)]


def _int32(value: int) -> int:
    # Checked here, not published as minimum/maximum: ten digits twice is context for nothing.
    if not -(2**31) <= value < 2**31:
        raise ValueError("must fit in a signed 32-bit integer")
    return value


Int32 = Annotated[int, AfterValidator(_int32), NOT_BOOLEAN]


def check_recurrence(rule: str) -> None:
    body = rule.removeprefix("RRULE:")
    if not body.strip():
        # patch.md: an empty recurrence "means the field is not updated"; it cannot end a series.
        raise ValueError(
            "recurrence: empty; give a rule (FREQ=WEEKLY;BYDAY=MO) or leave it out (Feishu reads an empty one "
            "as no change: to stop a series from one occurrence on, delete_event with scope this_and_following)"
        )
    if not body.isascii():
        raise ValueError("recurrence: ASCII only (RFC 5545), e.g. FREQ=WEEKLY;BYDAY=MO")
    unpaired = [p for p in body.split(";") if p and "=" not in p]
    if unpaired:  # dateutil's own message here is Python's "not enough values to unpack"
        raise ValueError(f"recurrence: each part is NAME=VALUE, not {unpaired[0]!r}; e.g. FREQ=WEEKLY;BYDAY=MO")
    parts = {p.split("=", 1)[0].upper() for p in body.split(";") if p}
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("recurrence: COUNT and UNTIL cannot both be present (Feishu rule)")
    from dateutil.rrule import rrulestr  # imported on first use: most calls carry no recurrence

    try:
        rrulestr("RRULE:" + body, ignoretz=True)
    except (ValueError, TypeError, OverflowError) as exc:  # OverflowError: a number past a C long
        raise ValueError(f"recurrence: not a valid RFC 5545 RRULE ({exc})") from exc


class EventBody(Input):
    """Fields of an event that create_event and update_event both accept."""

    summary: Annotated[str | None, Field(max_length=1000, description="Title.")] = None
    description: Annotated[str | None, Field(max_length=40960, description="Details; some HTML.")] = None
    start: Annotated[TimeValue | None, Field(description="Start; a date makes it all-day.")] = None
    end: Annotated[
        TimeValue | None, Field(description="End; a date makes it all-day through that day (one day: end = start).")
    ] = None
    timezone: Timezone = None
    location: Annotated[Location | None, Field(description="Where.")] = None
    reminders: Annotated[
        list[Reminder] | None,
        Field(max_length=100, description="Minutes before start (negative = after); only for you."),
    ] = None
    recurrence: Annotated[
        str | None,
        Field(max_length=2000, description="RRULE without prefix, e.g. FREQ=WEEKLY;BYDAY=MO."),
    ] = None
    visibility: Annotated[Visibility | None, Field(description="Who sees details.")] = None
    attendee_ability: Annotated[AttendeeAbility | None, Field(description="What attendees may do.")] = None
    free_busy_status: Annotated[FreeBusyStatus | None, Field(description="Shown as busy or free.")] = None
    color: Annotated[Int32 | None, Field(description="RGB int32; -1 = calendar's.")] = None
    vchat: Annotated[VChat | None, Field(description="Video meeting settings.")] = None
    schemas: Annotated[list[UiSchema] | None, Field(max_length=20, description="UI parts to hide.")] = None
    attachments: Annotated[list[Attachment] | None, Field(max_length=50, description="Drive file tokens.")] = None
    need_notification: NeedNotification = None

    _start: times.ParsedTime | None = PrivateAttr(default=None)
    _end: times.ParsedTime | None = PrivateAttr(default=None)
    _tz: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _times_and_rules(self, info: ValidationInfo) -> Self:
        default_tz = (info.context or {}).get("timezone") if info.context else None
        tz = self.timezone or default_tz
        self._tz = tz
        if self.timezone:
            times.zone(self.timezone)
        if (self.start is None) != (self.end is None):
            raise ValueError("start/end: give both or neither (Feishu applies them only together)")
        if self.start is not None and self.end is not None:
            start = times.parse_time(self.start, tz, "start")
            end = times.parse_time(self.end, tz, "end")
            if start.is_all_day != end.is_all_day:
                raise ValueError("start/end: both must be dates (all-day) or both timed")
            if start.day is not None and end.day is not None:
                if end.day < start.day:
                    raise ValueError("end: must not be before start")
            elif start.as_instant(None) >= end.as_instant(None):
                raise ValueError("end: must be after start")
            self._start, self._end = start, end
        if self.recurrence is not None:
            check_recurrence(self.recurrence)
        return self

    def body(self) -> dict[str, Any]:
        """The Feishu event object for this input (only the fields that were given)."""
        out: dict[str, Any] = {}
        for name in (
            "summary",
            "description",
            "visibility",
            "attendee_ability",
            "free_busy_status",
            "color",
            "recurrence",
            "need_notification",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in ("location", "vchat"):
            part = getattr(self, name)
            if part is not None:
                out[name] = part.model_dump(exclude_none=True)
        if self.reminders is not None:
            out["reminders"] = [{"minutes": m} for m in self.reminders]
        if self.schemas is not None:
            out["schemas"] = [s.model_dump() for s in self.schemas]
        if self.attachments is not None:
            out["attachments"] = [a.model_dump(exclude_none=True) for a in self.attachments]
        if self._start is not None and self._end is not None:
            out["start_time"] = times.time_info(self._start, self._tz)
            out["end_time"] = times.time_info(self._end, self._tz)
        return out
