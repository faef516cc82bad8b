"""Every tool, each declared once (see tools.spec.Operation), in a module named after its toolset.

``tools/<toolset>.py`` (or ``<toolset>_<part>.py``) holds that toolset's declarations; ``tools/common/``
holds what they share."""

from __future__ import annotations

from typing import Any

from tools.attendees import add_attendees, list_attendees, list_chat_members, remove_attendees
from tools.calendars import list_calendars
from tools.events import create_event, delete_event, get_event, list_events, update_event
from tools.events_agenda import list_recurring_instances, reply_event, search_events, view_instances
from tools.exchange import create_exchange_binding, delete_exchange_binding, get_exchange_binding
from tools.freebusy import get_free_busy
from tools.freebusy_meeting_times import find_meeting_times
from tools.meetings import create_meeting_chat, create_meeting_minutes, unbind_meeting_chat
from tools.people import find_people
from tools.rooms import find_rooms, get_room_freebusy
from tools.settings import generate_caldav_config
from tools.spec import Operation
from tools.subscriptions import subscribe_events, unsubscribe_events

# In the order of the user-token interface (IFeishuUserV4CalendarEvent).
OPERATIONS: tuple[Operation[Any, Any], ...] = (
    create_event,
    delete_event,
    update_event,
    get_event,
    list_events,
    search_events,
    reply_event,
    list_recurring_instances,
    view_instances,
    create_meeting_chat,
    unbind_meeting_chat,
    create_meeting_minutes,
    get_room_freebusy,
    add_attendees,
    remove_attendees,
    list_attendees,
    list_chat_members,
    subscribe_events,
    unsubscribe_events,
    generate_caldav_config,
    create_exchange_binding,
    delete_exchange_binding,
    get_exchange_binding,
    # Scheduling by name (not among the 23): people, free/busy, meeting times, rooms, calendars.
    find_people,
    get_free_busy,
    find_meeting_times,
    find_rooms,
    list_calendars,
)

__all__ = ["OPERATIONS"]
