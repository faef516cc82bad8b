"""Meeting chats and meeting minutes of an event."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools.common.outputs import Done, FeishuData, done, feishu_data
from tools.events import EVENT, EventRef
from tools.spec import IN_QUERY, Operation, Replay

CHAT_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")


def _chat_check(inp: EventRef) -> str:
    # Feishu's event object has no meeting-chat field (docs, lark-oapi CalendarEvent), so no read
    # shows the chat; asking again settles whether it exists (one chat per event).
    return (
        f"call create_meeting_chat again for event_id={inp.event_id}: an event has one meeting chat, so it either "
        "creates the chat now and returns its meeting_chat_id (the lost call made none), or fails with 195109 "
        "because the lost call made it; then the chat exists (named after the event, in the user's Feishu chat "
        "list) but its id cannot be read back through the calendar API"
    )


def _minutes_check(inp: EventRef) -> str:
    return (
        f"call create_meeting_minutes again for event_id={inp.event_id}: an event has one minutes document, and "
        "asking again returns its doc_url whether or not the lost call made it"
    )


create_meeting_chat = Operation(
    name="create_meeting_chat",
    title="Create meeting chat",
    description=(
        "Create the group chat of an event on your primary calendar (needs at least 2 attendees). "
        "Returns meeting_chat_id and a share link."
    ),
    interface_function="CreateCalendarEventMeetingChatAsync",
    method="POST",
    route=EVENT + "/meeting_chat",
    input_model=EventRef,
    output_model=FeishuData,
    toolset="meetings",
    read_only=False,
    destructive=False,
    idempotent=False,
    # Replaying after an unknown outcome could leave a second chat: report it instead.
    replay=Replay.NEVER,
    scopes=CHAT_SCOPES,
    respond=feishu_data,
    outcome_check=_chat_check,
)


class UnbindChatInput(EventRef):
    meeting_chat_id: Annotated[
        str, Field(pattern=r"^oc_[A-Za-z0-9_-]{1,128}$", description="The chat id (oc_...)."), IN_QUERY
    ]


unbind_meeting_chat = Operation(
    name="unbind_meeting_chat",
    title="Unbind meeting chat",
    description="Detach the group chat from an event (only the chat owner can). The chat itself stays.",
    interface_function="DeleteCalendarEventMeetingChatAsync",
    method="DELETE",
    route=EVENT + "/meeting_chat",
    input_model=UnbindChatInput,
    output_model=Done,
    toolset="meetings",
    read_only=False,
    destructive=True,
    idempotent=True,
    replay=Replay.DELETE,
    scopes=CHAT_SCOPES,
    respond=done("meeting chat unbound"),
    confirm="Unbind chat {meeting_chat_id} from event {event_id}?",
    done_after_replay=frozenset({195108}),
)

create_meeting_minutes = Operation(
    name="create_meeting_minutes",
    title="Create meeting minutes",
    description=(
        "Create the minutes document of an event on your primary calendar (needs an attendee and "
        "attendee_ability other than none). Returns doc_url."
    ),
    interface_function="CreateCalendarEventMeetingMinuteAsync",
    method="POST",
    route=EVENT + "/meeting_minute",
    input_model=EventRef,
    output_model=FeishuData,
    toolset="meetings",
    read_only=False,
    destructive=False,
    idempotent=False,
    replay=Replay.NEVER,
    scopes=CHAT_SCOPES,
    respond=feishu_data,
    outcome_check=_minutes_check,
)
