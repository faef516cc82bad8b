"""Change subscriptions: be told when events on a calendar change."""

from __future__ import annotations

from tools.common.fields import CalendarId
from tools.common.outputs import Done, done
from tools.events import EVENTS, READ_SCOPES
from tools.spec import Input, Operation, Replay


class CalendarRef(Input):
    calendar_id: CalendarId = "primary"


subscribe_events = Operation(
    name="subscribe_events",
    title="Subscribe to event changes",
    description=(
        "Ask Feishu to push calendar.calendar.event.changed_v4 to this app when events of a calendar "
        "change (the app must have event delivery configured)."
    ),
    interface_function="SubscriptionCalendarEventAsync",
    method="POST",
    route=EVENTS + "/subscription",
    input_model=CalendarRef,
    output_model=Done,
    toolset="subscriptions",
    read_only=False,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=done("subscribed"),
)

unsubscribe_events = Operation(
    name="unsubscribe_events",
    title="Unsubscribe from event changes",
    description="Stop the event-change pushes for a calendar started by subscribe_events.",
    interface_function="UnSubscriptionCalendarEventAsync",
    method="POST",
    route=EVENTS + "/unsubscription",
    input_model=CalendarRef,
    output_model=Done,
    toolset="subscriptions",
    read_only=False,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=done("unsubscribed"),
)
