"""Attendees: add, remove, list, and the members of a chat attendee."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from tools.common.approval import approval_rooms, booking_notes, require_reasons
from tools.common.composite import Upstream
from tools.common.fields import NOT_BOOLEAN, AttendeeType, NeedNotification, PageToken, PathId, UserIdTypeField
from tools.common.names import CHAT_SEARCH, attendees_for
from tools.common.outputs import Done, ItemPage, done, item_page
from tools.common.resolve import PROFILES, ROOM_SEARCH, SEARCH_USER, USER_INFO, NameText
from tools.events import EVENT, EventRef
from tools.spec import IN_QUERY, Operation, ReadBack, Replay, WireRequest

ATTENDEES = EVENT + "/attendees"
WRITE_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")
READ_SCOPES = ("calendar:calendar", "calendar:calendar.event:read", "calendar:calendar:readonly")
ID_FIELD = {"user": "user_id", "chat": "chat_id", "resource": "room_id", "third_party": "third_party_email"}


class NewAttendee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Annotated[AttendeeType, Field(description="user, chat, resource (room) or third_party (email).")]
    user_id: PathId | None = None
    chat_id: PathId | None = None
    room_id: PathId | None = None
    third_party_email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)] = None
    is_optional: bool | None = None
    approval_reason: Annotated[str | None, Field(max_length=200, description="For rooms that need approval.")] = None
    operate_id: Annotated[PathId | None, Field(description="Room contact person.")] = None
    name: Annotated[NameText | None, Field(description="Instead of the id (user: or email).")] = None

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # A bare name is what create_event's invite takes; pydantic alone would only say "a valid
        # dictionary", which does not tell the model what to send instead.
        if isinstance(value, str):
            raise ValueError(
                f'an attendee is an object with its type, e.g. {{"type": "user", "name": "{value[:64]}"}} '
                "(type chat or resource for a chat or room; third_party with third_party_email)"
            )
        return value

    @model_validator(mode="after")
    def _id_matches_type(self) -> Self:
        wanted = ID_FIELD[self.type]
        if self.name is not None:
            if self.type == "third_party" or getattr(self, wanted) is not None:
                raise ValueError(f"name: give either name or {wanted}, for user, chat or resource")
        elif getattr(self, wanted) is None:
            raise ValueError(f"{wanted}: required when type is {self.type}")
        for other in ID_FIELD.values():
            if other != wanted and getattr(self, other) is not None:
                raise ValueError(f"{other}: not allowed when type is {self.type} (use {wanted})")
        if self.type == "resource" and self.is_optional is not None:
            raise ValueError("is_optional: cannot be set for meeting rooms")
        return self


class AddAttendeesInput(EventRef):
    attendees: Annotated[
        list[NewAttendee],
        Field(min_length=1, max_length=1000, description="At most 1000 (100 rooms) per call."),
    ]
    need_notification: NeedNotification = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None

    _approval: dict[str, str] = PrivateAttr(default_factory=dict)  # rooms that need approval: id -> name

    @model_validator(mode="after")
    def _room_limit(self) -> Self:
        if sum(a.type == "resource" for a in self.attendees) > 100:
            raise ValueError("attendees: at most 100 meeting rooms per request (Feishu limit)")
        # A name becomes an open_id; sent under another user_id_type, Feishu would read it as a
        # user_id/union_id and invite nobody (or somebody else).
        if self.user_id_type not in (None, "open_id") and any(a.type == "user" and a.name for a in self.attendees):
            raise ValueError(
                f"user_id_type: names are looked up as open_ids; leave user_id_type out (or give ids as "
                f"{self.user_id_type}s, not names)"
            )
        return self


# The look-up a name of each attendee type gets (tools/common/names.py).
NAME_KIND = {"user": "user", "chat": "chat", "resource": "resource"}


async def named_attendees(attendees: list[NewAttendee], up: Upstream, picks: dict[str, str]) -> list[NewAttendee]:
    """``attendees`` with every name replaced by the id it means."""
    named = [(NAME_KIND[a.type], a.name) for a in attendees if a.name]
    if not named:
        return attendees
    found = dict(zip(dict.fromkeys(named), await attendees_for(up, named, picks), strict=True))
    return [
        NewAttendee.model_validate(
            {**a.model_dump(exclude_none=True, exclude={"name", "type"}), **found[(NAME_KIND[a.type], a.name)]}
        )
        if a.name
        else a
        for a in attendees
    ]


async def _prepare_add(inp: AddAttendeesInput, up: Upstream, picks: dict[str, str]) -> AddAttendeesInput:
    ready = inp.model_copy(update={"attendees": await named_attendees(inp.attendees, up, picks)})
    sent = [a.model_dump(exclude_none=True) for a in ready.attendees]
    ready._approval = await approval_rooms(up, sent)
    require_reasons(sent, ready._approval)
    return ready


def _add_wire(inp: AddAttendeesInput) -> WireRequest:
    body: dict[str, Any] = {"attendees": [a.model_dump(exclude_none=True, exclude={"name"}) for a in inp.attendees]}
    if inp.need_notification is not None:
        body["need_notification"] = inp.need_notification
    query: list[tuple[str, str]] = [("user_id_type", inp.user_id_type)] if inp.user_id_type else []
    return WireRequest(path_params={"calendar_id": inp.calendar_id, "event_id": inp.event_id}, query=query, body=body)


def _listed(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in data.get("items") or [] if isinstance(a, dict)]


def _identity(attendee: dict[str, Any]) -> tuple[str, str]:
    """(type, the id that names it for that type); emails compared without case."""
    kind = str(attendee.get("type"))
    ref = str(attendee.get(ID_FIELD.get(kind, "")) or "")
    return kind, ref.lower() if kind == "third_party" else ref


def _added_missing(body: dict[str, Any] | None, data: dict[str, Any]) -> list[str]:
    """Attendees this add sent that the attendee list does not show (only a complete list can tell)."""
    if data.get("has_more"):
        return []
    listed = {_identity(a) for a in _listed(data)}
    missing = []
    for sent in (body or {}).get("attendees") or []:
        kind, ref = _identity(sent)
        if (kind, ref) not in listed:
            missing.append(f"{kind} {ref} is not an attendee")
    return missing


def _removed_present(body: dict[str, Any] | None, data: dict[str, Any]) -> list[str]:
    """Attendees this removal sent that the attendee list still shows."""
    gone = set((body or {}).get("attendee_ids") or [])
    named = {_identity(d) for d in (body or {}).get("delete_ids") or []}
    return [
        f"{a.get('attendee_id')} is an attendee again"
        for a in _listed(data)
        if a.get("attendee_id") in gone or _identity(a) in named
    ]


# A person's, chat's or room's own id, or an email, given where an attendee_id is wanted: models
# hold those from find_people or list_attendees' user_id, and Feishu's attendee_ids took them for
# unknown attendees (194000). batch_delete.md's delete_ids names an attendee by exactly these.
_BY_OWN_ID = (("ou_", "user"), ("on_", "user"), ("oc_", "chat"), ("omm_", "resource"))


def _delete_id(value: str) -> dict[str, str] | None:
    """The delete_ids entry ``value`` stands for, or None for an attendee_id (user_..., chat_...)."""
    if "@" in value:
        return {"type": "third_party", "third_party_email": value}
    kind = next((k for prefix, k in _BY_OWN_ID if value.startswith(prefix)), None)
    return None if kind is None else {"type": kind, ID_FIELD[kind]: value}


def _remove_wire(inp: RemoveAttendeesInput) -> WireRequest:
    attendee_ids = [i for i in inp.attendee_ids if _delete_id(i) is None]
    delete_ids = [d for i in inp.attendee_ids if (d := _delete_id(i)) is not None]
    body: dict[str, Any] = {"attendee_ids": attendee_ids} if attendee_ids else {}
    if delete_ids:
        body["delete_ids"] = delete_ids
    if inp.need_notification is not None:
        body["need_notification"] = inp.need_notification
    kind = inp.user_id_type or ("union_id" if any(i.startswith("on_") for i in inp.attendee_ids) else None)
    query: list[tuple[str, str]] = [("user_id_type", str(kind))] if kind else []
    return WireRequest(path_params={"calendar_id": inp.calendar_id, "event_id": inp.event_id}, query=query, body=body)


# Read back whole lists (100 a page is Feishu's maximum).
ATTENDEE_READ_BACK = (("page_size", "100"),)


def _attendee_list(inp: AddAttendeesInput, data: dict[str, Any]) -> ItemPage:
    items = list(data.get("attendees") or [])
    return ItemPage(items=items, warnings=booking_notes(items, inp._approval))


add_attendees = Operation(
    name="add_attendees",
    title="Add attendees",
    description=(
        "Invite people, chats, email guests, or book rooms (type=resource; confirmed later: rsvp_status in "
        "list_attendees), by id or name. Example: attendees=[{type:'user', name:'Han Meimei'}, "
        "{type:'resource', room_id:'omm_y'}]."
    ),
    interface_function="CreateCalendarEventAttendeeAsync",
    method="POST",
    route=ATTENDEES,
    input_model=AddAttendeesInput,
    output_model=ItemPage,
    toolset="attendees",
    read_only=False,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,  # adding someone already invited leaves the same list
    scopes=WRITE_SCOPES,
    to_wire=_add_wire,
    respond=_attendee_list,
    read_back=ReadBack(route=ATTENDEES, differs=_added_missing, query=ATTENDEE_READ_BACK),
    prepare=_prepare_add,
    endpoints=(SEARCH_USER, USER_INFO, PROFILES, CHAT_SEARCH, ROOM_SEARCH),
)


class RemoveAttendeesInput(EventRef):
    attendee_ids: Annotated[
        list[PathId],
        Field(
            min_length=1,
            max_length=500,
            description="attendee_id values (user_..., resource_...) or open_ids, chat/room ids, emails; <=500.",
        ),
    ]
    need_notification: NeedNotification = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


remove_attendees = Operation(
    name="remove_attendees",
    title="Remove attendees",
    description=(
        "Remove attendees or release rooms from an event you organize, by attendee_id from list_attendees. "
        "Example: attendee_ids=['user_123']."
    ),
    interface_function="DeleteCalendarEventAttendeeAsync",
    method="POST",  # batch_delete is a POST (feishu-api.md §9)
    route=ATTENDEES + "/batch_delete",
    input_model=RemoveAttendeesInput,
    output_model=Done,
    toolset="attendees",
    read_only=False,
    destructive=True,
    idempotent=True,
    replay=Replay.DELETE,
    scopes=WRITE_SCOPES,
    respond=done("attendees removed"),
    to_wire=_remove_wire,
    confirm="Remove {attendee_ids} from event {event_id}?",
    done_after_replay=frozenset({194000}),
    read_back=ReadBack(route=ATTENDEES, differs=_removed_present, query=ATTENDEE_READ_BACK),
)


class ListAttendeesInput(EventRef):
    need_resource_customization: Annotated[bool | None, Field(description="Room booking forms."), IN_QUERY] = None
    page_size: Annotated[int | None, Field(ge=1, le=100, description="Default 20."), NOT_BOOLEAN, IN_QUERY] = None
    page_token: Annotated[PageToken, IN_QUERY] = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


async def _rooms_waiting(inp: ListAttendeesInput, data: dict[str, Any], up: Upstream, _: str) -> dict[str, Any]:
    """Which waiting rooms wait for an approver rather than for the booking (one directory look-up)."""
    waiting = [a for a in _listed(data) if a.get("type") == "resource" and a.get("rsvp_status") == "needs_action"]
    return {**data, "approval": await approval_rooms(up, waiting)}


def _attendee_page(_: ListAttendeesInput, data: dict[str, Any]) -> ItemPage:
    page = item_page(_, data)
    waiting = [a for a in page.items if a.get("type") == "resource" and a.get("rsvp_status") == "needs_action"]
    return page.model_copy(update={"warnings": booking_notes(waiting, data.get("approval") or {})})


list_attendees = Operation(
    name="list_attendees",
    title="List attendees",
    description=(
        "List an event's attendees with their rsvp_status. Rooms: needs_action = booking in progress "
        "(or awaiting approval: see warnings), accept = booked, decline = booking failed."
    ),
    interface_function="GetCalendarEventAttendeePageListAsync",
    method="GET",
    route=ATTENDEES,
    input_model=ListAttendeesInput,
    output_model=ItemPage,
    toolset="attendees",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=_attendee_page,
    after=_rooms_waiting,
    endpoints=(ROOM_SEARCH,),
)


class ChatMembersInput(EventRef):
    attendee_id: Annotated[
        PathId, Field(pattern=r"^chat_[^/\\?#%\s]{1,250}$", description="A chat attendee's id (chat_...).")
    ]
    page_size: Annotated[int | None, Field(ge=1, le=100, description="Default 20."), NOT_BOOLEAN, IN_QUERY] = None
    page_token: Annotated[PageToken, IN_QUERY] = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


# UNVERIFIED (feishu-api.md op 17): members come back with open_id only (the official SDK's
# CalendarEventAttendeeChatMember has no user_id), so user_id_type may not change this answer.
list_chat_members = Operation(
    name="list_chat_members",
    title="List chat attendee members",
    description="List the members of a chat that attends an event, with their rsvp_status (you must be in it).",
    interface_function="GetCalendarEventAttendeeChatMemberPageListAsync",
    method="GET",
    route=ATTENDEES + "/{attendee_id}/chat_members",
    input_model=ChatMembersInput,
    output_model=ItemPage,
    toolset="attendees",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=item_page,
)
