"""The sandbox's world: tenants, users, calendars, events, rooms, chats and the per-feature containers.

Plain dataclasses, no behaviour beyond small lookups; the route modules apply Feishu's rules.
Times inside are Unix seconds (``int``); the wire always carries them as strings.

One :class:`Event` object exists per event id. The organizer's calendar owns it; every other
calendar sees it through its attendee list (a user's primary calendar, a room's calendar).
A recurring event is one master (``original_time == 0``) plus one :class:`Event` per changed or
cancelled occurrence (``is_exception``; its ``original_time`` is the occurrence's original start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.directory import Directory

Role = Literal["unknown", "free_busy_reader", "reader", "writer", "owner"]
CalendarType = Literal["primary", "shared", "resource"]
AttendeeType = Literal["user", "chat", "resource", "third_party"]
RsvpStatus = Literal["needs_action", "accept", "tentative", "decline", "removed"]

# Lowest to highest: a role "at least reader" compares by index.
ROLE_ORDER: tuple[Role, ...] = ("unknown", "free_busy_reader", "reader", "writer", "owner")
# Lowest to highest, as attendee_ability widens what a plain attendee may do.
ABILITY_ORDER = ("none", "can_see_others", "can_invite_others", "can_modify_event")


def role_at_least(role: Role, wanted: Role) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(wanted)


@dataclass
class Tenant:
    tenant_key: str
    name: str


@dataclass
class User:
    open_id: str  # ou_…; differs per app in real Feishu, one app is enough here
    user_id: str  # the tenant's employee id
    union_id: str  # on_…
    name: str
    en_name: str
    email: str
    tenant_key: str
    mobile: str = ""
    employee_no: str = ""
    is_super_admin: bool = False  # tenant super-admin: may manage Exchange bindings
    status: Literal["active", "resigned", "frozen"] = "active"
    # The lark-oapi contact User model's time_zone; Feishu's docs do not list it (UNVERIFIED that
    # Feishu returns it): the sandbox returns it only for a user given one (seed users have none).
    time_zone: str = ""


@dataclass
class Calendar:
    calendar_id: str
    summary: str
    type: CalendarType
    owner_open_id: str | None  # None for room calendars
    description: str = ""
    permissions: Literal["private", "show_only_free_busy", "public"] = "show_only_free_busy"
    color: int = -1
    summary_alias: str = ""
    is_deleted: bool = False
    room_id: str | None = None  # set on a meeting room's resource calendar
    acl: dict[str, Role] = field(default_factory=dict)  # open_id -> role; the owner is implied
    default_role: Role = "free_busy_reader"  # for users of the same tenant with no ACL entry

    def role_of(self, open_id: str | None) -> Role:
        if open_id is not None and open_id == self.owner_open_id:
            return "owner"
        if open_id is not None and open_id in self.acl:
            return self.acl[open_id]
        return self.default_role


@dataclass
class MeetingRoom:
    room_id: str  # omm_…
    name: str
    calendar_id: str
    capacity: int
    building: str
    floor: str


@dataclass
class Chat:
    chat_id: str  # oc_…
    name: str
    owner_open_id: str
    member_open_ids: list[str] = field(default_factory=list)
    # Feishu's chat_type "public": anyone of its tenant finds it in chat search (search.md), but
    # only members list its members (chat-member/get.md).
    public: bool = False


@dataclass
class TimeInfo:
    """Either an all-day ``date`` (YYYY-MM-DD, always UTC) or a ``timestamp`` in a timezone."""

    timestamp: int | None = None
    date: str | None = None
    timezone: str = "Asia/Shanghai"


@dataclass
class Attendee:
    attendee_id: str  # user_…, chat_…, resource_…, third_party_…
    type: AttendeeType
    open_id: str | None = None  # type user
    chat_id: str | None = None  # type chat
    room_id: str | None = None  # type resource
    third_party_email: str | None = None  # type third_party
    rsvp_status: RsvpStatus = "needs_action"
    is_optional: bool = False
    is_organizer: bool = False
    is_external: bool = False
    display_name: str = ""
    operate_id: str | None = None
    approval_reason: str | None = None
    resource_customization: list[dict[str, Any]] = field(default_factory=list)
    # Type chat: each member's own answer (open_id -> reply); members who have not answered are absent.
    member_replies: dict[str, RsvpStatus] = field(default_factory=dict)
    # Type resource, booking in progress: the room's coming answer and when (sandbox clock) it
    # arrives (sandbox/room_booking.py); None once answered.
    room_answer: RsvpStatus | None = None
    answer_at: float = 0.0
    awaiting_approval: bool = False  # a room that needs approval, waiting for its approver


@dataclass
class Event:
    uid: str
    original_time: int  # 0 for a single event or a recurring master
    organizer_calendar_id: str
    organizer_open_id: str | None  # None when an app (tenant token) organizes it
    start: TimeInfo
    end: TimeInfo
    create_time: int
    summary: str = ""
    description: str = ""
    vchat: dict[str, Any] = field(default_factory=dict)
    visibility: str = "default"
    attendee_ability: str = "none"
    free_busy_status: str = "busy"
    location: dict[str, Any] | None = None
    color: int = 0
    reminders: list[dict[str, Any]] = field(default_factory=list)
    recurrence: str = ""
    schemas: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    event_check_in: dict[str, Any] | None = None
    status: Literal["tentative", "confirmed", "cancelled"] = "confirmed"
    is_exception: bool = False
    recurring_event_id: str = ""  # the master's event id, on exceptions
    attendees: list[Attendee] = field(default_factory=list)
    deleted: bool = False
    # Per-identity settings (color, reminders, visibility, free_busy_status) set by attendees.
    personal: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Bumped on every change; sync tokens are positions in this sequence.
    change_seq: int = 0
    # Calendars that have ever shown the event: they must hear of its deletion in a sync.
    seen_on: set[str] = field(default_factory=set)
    # The event's JSON text as listings last sent it, by what else it depends on (sandbox/render.py
    # event_text); change_seq is part of each key, so a change (always followed by touch) retires it.
    rendered: dict[tuple[Any, ...], bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def event_id(self) -> str:
        return f"{self.uid}_{self.original_time}"

    def attendee_for_user(self, open_id: str) -> Attendee | None:
        return next((a for a in self.attendees if a.type == "user" and a.open_id == open_id), None)


@dataclass
class App:
    """A registered Feishu app (OAuth client)."""

    app_id: str  # cli_…
    app_secret: str
    tenant_key: str
    redirect_uris: list[str]
    name: str = "Sandbox app"
    # The scopes enabled in the (emulated) developer console; None means "any".
    enabled_scopes: frozenset[str] | None = None
    allow_refresh: bool = True  # the "refresh user_access_token" security switch


@dataclass
class AccessToken:
    token: str  # u-… for a user, t-… for a tenant (app identity)
    app_id: str
    open_id: str | None  # None on a tenant token
    scopes: frozenset[str]
    expires_at: float

    @property
    def is_user(self) -> bool:
        return self.open_id is not None


@dataclass
class RefreshToken:
    token: str
    app_id: str
    open_id: str
    scopes: frozenset[str]
    expires_at: float
    authorized_at: float  # the consent it descends from: re-consent is due after 365 days
    used: bool = False
    revoked: bool = False


@dataclass
class AuthorizationCode:
    code: str
    app_id: str
    open_id: str
    scopes: frozenset[str]
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str
    expires_at: float
    used: bool = False


# Containers the attendee/meeting/subscription/settings/exchange routes fill.


@dataclass
class MeetingChat:
    meeting_chat_id: str
    event_id: str
    owner_open_id: str | None
    applink: str


@dataclass
class MeetingMinute:
    event_id: str
    doc_url: str


@dataclass
class Subscription:
    app_id: str
    open_id: str
    calendar_id: str


@dataclass
class CaldavSetting:
    open_id: str
    device_name: str
    user_name: str
    password: str
    server_address: str


@dataclass
class ExchangeBinding:
    exchange_binding_id: str
    admin_account: str
    exchange_account: str
    open_id: str
    status: Literal["doing", "cal_done", "timespan_done", "done", "err"] = "doing"


@dataclass
class Showing:
    """Which stored events each calendar shows, kept by sandbox/eventstore.py (``touch``, ``remove``).

    A listing reads one calendar's entry instead of asking every event in the world whether the
    calendar shows it: the cost follows the calendar's events, not the world's (the benchmarks'
    1,000-event calendar sits beside the 9 events a demo listing wants).
    """

    # event_id -> the calendars that showed the stored event at its last touch (calendars_of).
    by_event: dict[str, frozenset[str]] = field(default_factory=dict)
    by_calendar: dict[str, set[str]] = field(default_factory=dict)  # calendar_id -> event ids
    # (calendars, chats, rooms) counted when built: calendars_of reads them, so new ones mean a rebuild.
    built_for: tuple[int, int, int] = (-1, -1, -1)


@dataclass
class World:
    """Everything the sandbox knows, in one place so a reset is one assignment."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by open_id
    calendars: dict[str, Calendar] = field(default_factory=dict)
    rooms: dict[str, MeetingRoom] = field(default_factory=dict)
    chats: dict[str, Chat] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)  # by event_id
    # (app_id, calendar_id, idempotency_key) -> event_id
    idempotency: dict[tuple[str, str, str], str] = field(default_factory=dict)
    change_seq: int = 0
    sync_epoch: int = 0  # bumped to expire every outstanding page and sync token
    apps: dict[str, App] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    # Scopes each user has granted each app; grants accumulate across authorizations.
    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    meeting_chats: dict[str, MeetingChat] = field(default_factory=dict)  # by meeting_chat_id
    minutes: dict[str, MeetingMinute] = field(default_factory=dict)  # by event_id
    subscriptions: list[Subscription] = field(default_factory=list)
    caldav: list[CaldavSetting] = field(default_factory=list)
    exchange_bindings: dict[str, ExchangeBinding] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)  # departments, profiles, room levels
    room_answers_pending: bool = False  # some room has not answered yet (room_booking.settle)
    showing: Showing = field(default_factory=Showing)  # derived from the rest (eventstore keeps it)

    def next_seq(self) -> int:
        self.change_seq += 1
        return self.change_seq

    def primary_calendar(self, open_id: str) -> Calendar | None:
        return next(
            (c for c in self.calendars.values() if c.type == "primary" and c.owner_open_id == open_id),
            None,
        )

    def user_by_any_id(self, user_id: str, id_type: str) -> User | None:
        """Find a user by the id kind ``user_id_type`` names (open_id, union_id or user_id)."""
        if id_type == "open_id":
            return self.users.get(user_id)
        attribute = "union_id" if id_type == "union_id" else "user_id"
        return next((u for u in self.users.values() if getattr(u, attribute) == user_id), None)
