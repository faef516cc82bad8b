"""Meeting chats and meeting minutes of an event (feishu-api.md ops 10-12).

* Create chat: the event must be on the caller's own primary calendar, with writer rights, have
  at least 2 attendees and an attendee list the caller may see; an event has one meeting chat at a
  time. Any of these failing is 195109. The chat is a real chat of the world (its members are the
  event's user attendees and the members of its chat attendees; the caller owns it).
* Unbind chat: ``meeting_chat_id`` must be the event's chat (195108) and the caller its owner
  (195107). The chat itself stays; the event can get a new one afterwards.
* Create minutes: own primary calendar with writer rights, at least one attendee and an
  ``attendee_ability`` other than ``none`` (195110). An event has one minutes document: asking
  again returns the same ``doc_url``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import eventstore
from sandbox.attendees import live
from sandbox.calendars import calendar_for
from sandbox.events import EVENT, WRITABLE_TYPES, may_see_attendees
from sandbox.state import Chat, Event, MeetingChat, MeetingMinute
from sandbox.wire import Call, FeishuFault, api_route

if TYPE_CHECKING:
    from sandbox.core import Api

CHAT_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")
CHAT_APPLINK = "https://applink.feishu.cn/client/chat/chatter/add_by_link?link_token="
DOC_URL = "https://sandbox.feishu.cn/docx/"
NO_CHAT = 195109
NO_MINUTES = 195110


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", EVENT + "/meeting_chat", create_meeting_chat, scopes=CHAT_SCOPES),
        api_route(sb, "DELETE", EVENT + "/meeting_chat", unbind_meeting_chat, scopes=CHAT_SCOPES),
        api_route(sb, "POST", EVENT + "/meeting_minute", create_meeting_minute, scopes=CHAT_SCOPES),
    ]


def _own_primary_event(call: Call, refusal: int) -> Event:
    calendar = calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)
    if call.user is None or calendar.type != "primary" or calendar.owner_open_id != call.user.open_id:
        raise FeishuFault(refusal, "the event must be on your own primary calendar", 400)
    return eventstore.find_event(call, calendar, call.path["event_id"])


def chat_of(call: Call, event: Event) -> MeetingChat | None:
    return next((c for c in call.sb.world.meeting_chats.values() if c.event_id == event.event_id), None)


def create_meeting_chat(call: Call) -> dict[str, Any]:
    event = _own_primary_event(call, NO_CHAT)
    if chat_of(call, event) is not None:
        raise FeishuFault(NO_CHAT, "the event already has a meeting chat", 400)
    if not may_see_attendees(call, event):
        raise FeishuFault(NO_CHAT, "a meeting chat needs an attendee list you can see", 400)
    attendees = live(event)
    if len(attendees) < 2:
        raise FeishuFault(NO_CHAT, "a meeting chat needs at least 2 attendees", 400)
    assert call.user is not None  # _own_primary_event refuses the app identity
    world = call.sb.world
    members = [call.user.open_id]
    for attendee in attendees:
        if attendee.type == "user" and attendee.open_id and attendee.rsvp_status != "decline":
            members.append(attendee.open_id)
        elif attendee.type == "chat" and attendee.chat_id in world.chats:
            members.extend(world.chats[attendee.chat_id].member_open_ids)
    chat_id = "oc_" + secrets.token_hex(16)
    world.chats[chat_id] = Chat(
        chat_id, event.summary or "Meeting chat", call.user.open_id, list(dict.fromkeys(members))
    )
    chat = MeetingChat(chat_id, event.event_id, call.user.open_id, CHAT_APPLINK + secrets.token_urlsafe(16))
    world.meeting_chats[chat_id] = chat
    return {"meeting_chat_id": chat.meeting_chat_id, "applink": chat.applink}


def unbind_meeting_chat(call: Call) -> None:
    calendar = calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)
    chat_id = call.query("meeting_chat_id")
    if not chat_id:
        raise FeishuFault(190002, "invalid parameters: meeting_chat_id is required")
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    chat = call.sb.world.meeting_chats.get(chat_id)
    if chat is None or chat.event_id != event.event_id:
        raise FeishuFault(195108, "the chat is not this event's meeting chat", 400)
    if call.user is None or chat.owner_open_id != call.user.open_id:
        raise FeishuFault(195107, "only the chat owner can unbind the meeting chat", 403)
    del call.sb.world.meeting_chats[chat_id]


def create_meeting_minute(call: Call) -> dict[str, Any]:
    event = _own_primary_event(call, NO_MINUTES)
    world = call.sb.world
    existing = world.minutes.get(event.event_id)
    if existing is not None:
        return {"doc_url": existing.doc_url}
    if not live(event):
        raise FeishuFault(NO_MINUTES, "meeting minutes need at least one attendee", 400)
    if event.attendee_ability == "none":
        raise FeishuFault(NO_MINUTES, "meeting minutes need attendee_ability other than none", 400)
    minute = MeetingMinute(event.event_id, DOC_URL + secrets.token_urlsafe(18))
    world.minutes[event.event_id] = minute
    return {"doc_url": minute.doc_url}
