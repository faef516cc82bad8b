"""Input field types shared by the tools, each carrying Feishu's rule for it.

Optional fields are typed ``X | None`` with default None; the schema generator in
``server.schema`` publishes them as plain ``X`` (absent means "not given"), so no client
sees an ``anyOf`` with null. Constraints sit on the inner type so None is never checked.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field


def _not_a_boolean(value: Any) -> Any:
    # JSON true/false are not counts or minutes: pydantic alone would read true as 1.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


# Every integer input carries it, after its Field: placed before, it would hide the bounds from
# the published schema (pydantic then writes "ge"/"le" instead of minimum/maximum).
NOT_BOOLEAN = BeforeValidator(_not_a_boolean)

# Ids are path segments: they must never be able to change the route. No '/', '\\', '?',
# '#', '%', whitespace or control characters, and not '.' or '..' as a whole segment.
# '@' stays allowed because calendar ids look like xxx@group.calendar.feishu.cn.
ID_PATTERN = r"^[^/\\?#%\s]+$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


_SAFE_ID = re.compile(ID_PATTERN)


def safe_segment(value: str) -> str:
    """``value`` if it can only ever be one path segment; else ValueError naming the rule."""
    if not _SAFE_ID.match(value):
        raise ValueError("an id cannot contain / \\ ? # % or whitespace")
    if value in {".", ".."}:
        raise ValueError("an id cannot be '.' or '..' (it would change the route)")
    if _CONTROL.search(value):
        raise ValueError("an id cannot contain control characters")
    return value


def _path_id(value: str) -> str:
    # Checked here, not published as pattern/maxLength: those ~50 bytes would repeat in every
    # tool that takes an id (17 of them), paid for in the model's context on every conversation.
    if len(value) > 256:
        raise ValueError("an id is at most 256 characters")
    return safe_segment(value)


PathId = Annotated[str, AfterValidator(_path_id)]


def _calendar(value: str) -> str:
    # An id (it has an '@') must be one safe path segment; a name may have spaces (the server
    # looks it up in the calendar list), never a character that could change a route.
    if "@" in value or value in ("primary", ".", ".."):
        return _path_id(value)
    if not 1 <= len(value) <= 256 or _CONTROL.search(value) or any(c in value for c in "/\\?#%"):
        raise ValueError("a calendar name is 1-256 characters without / \\ ? # % (or pass its id)")
    return value.strip()


CalendarId = Annotated[
    str,
    AfterValidator(_calendar),
    Field(description="Id or name."),
]
EventId = Annotated[
    PathId,
    Field(description="From view_instances/search_events."),
]

UserIdType = Literal["open_id", "union_id", "user_id"]

UserIdTypeField = Annotated[UserIdType | None, Field(description="Default open_id.")]


def _number_as_text(value: Any) -> Any:
    # Models often send Unix seconds as a JSON number; the schema says string.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _short_text(value: str) -> str:
    # Checked here rather than published as minLength/maxLength: every schema byte costs context.
    if not 1 <= len(value) <= 64:
        raise ValueError("a time must be 1-64 characters")
    return value


TimeValue = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_short_text)]

# IANA names are at most ~32 characters; a longer one is not a zone (and made the zone lookup
# itself fail, as a file name too long for the OS).
TIMEZONE_MAX = 64
# Feishu's tokens are short (it documents no limit); a longer one can only be made up, and one of
# ~66,000 characters no longer fits in a URL.
TOKEN_MAX = 2048


def _at_most(limit: int, what: str) -> AfterValidator:
    # Checked here rather than published as maxLength: every schema byte costs context.
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters ({what})")
        return value

    return AfterValidator(check)


Timezone = Annotated[
    Annotated[str, _at_most(TIMEZONE_MAX, "an IANA zone name such as Asia/Shanghai")] | None,
    Field(description="IANA zone for naive times."),
]

# Fields many tools share, described once.
WindowStart = Annotated[TimeValue, Field(description="Window start.")]
WindowEnd = Annotated[TimeValue, Field(description="Window end; a date means through that day.")]
NeedNotification = Annotated[bool | None, Field(description="Notify attendees (default true).")]

_Token = Annotated[str, _at_most(TOKEN_MAX, "pass back the token exactly as a previous answer gave it")]
PageToken = Annotated[_Token | None, Field(description="From the previous page.")]
SyncToken = Annotated[_Token | None, Field(description="From a previous list: only changes since.")]

RsvpStatus = Literal["accept", "decline", "tentative"]
Visibility = Literal["default", "public", "private"]
AttendeeAbility = Literal["none", "can_see_others", "can_invite_others", "can_modify_event"]
FreeBusyStatus = Literal["busy", "free"]
AttendeeType = Literal["user", "chat", "resource", "third_party"]
