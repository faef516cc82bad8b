"""Input field types shared by the tools, each carrying Feishu's rule for it.

Optional fields are typed ``X | None`` with default None; the schema generator in
``server.schema`` publishes them as plain ``X`` (absent means "not given"), so no client
sees an ``anyOf`` with null. Constraints sit on the inner type so None is never checked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# Ids are path segments: they must never be able to change the route. No '/', '\\', '?',
# '#', '%', whitespace or control characters, and not '.' or '..' as a whole segment.
# '@' stays allowed because calendar ids look like xxx@group.calendar.feishu.cn.
ID_PATTERN = r"^[^/\\?#%\s\x00-\x1f\x7f]{1,256}$"


def _not_dot_segment(value: str) -> str:
    if value in {".", ".."}:
        raise ValueError("an id cannot be '.' or '..' (it would change the route)")
    return value


PathId = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(_not_dot_segment)]

CalendarId = Annotated[
    PathId,
    Field(description="Calendar id; 'primary' (default) is your primary calendar."),
]
EventId = Annotated[
    PathId,
    Field(description="Event id, e.g. from list_events or search_events."),
]

UserIdType = Literal["open_id", "union_id", "user_id"]
UserIdTypeField = Annotated[
    UserIdType | None,
    Field(description="Id type of user ids in and out (default open_id)."),
]


def _number_as_text(value: Any) -> Any:
    # Models often send Unix seconds as a JSON number; the schema says string.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


TimeValue = Annotated[str, BeforeValidator(_number_as_text), StringConstraints(min_length=1, max_length=64)]

Timezone = Annotated[
    str | None,
    Field(description="IANA timezone for local times without offset, e.g. Asia/Shanghai."),
]

PageToken = Annotated[str | None, Field(description="page_token from the previous page.")]

RsvpStatus = Literal["accept", "decline", "tentative"]
Visibility = Literal["default", "public", "private"]
AttendeeAbility = Literal["none", "can_see_others", "can_invite_others", "can_modify_event"]
FreeBusyStatus = Literal["busy", "free"]
AttendeeType = Literal["user", "chat", "resource", "third_party"]
