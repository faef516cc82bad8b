"""Feishu failures as typed errors, and the one table that says what each means and what to do.

FeishuError
├── AuthRequired          no usable user token: sign in (again)
├── ScopeMissing          99991679: the user has not granted a scope
├── AppScopeMissing       99991672: the app lacks the scope in the developer console
├── PermissionDenied      no role on the calendar/event, not organizer, not super-admin
├── NotFound              calendar/event/attendee/binding does not exist (or was deleted)
├── InvalidRequest        Feishu rejected the parameters (field_violations listed)
├── RateLimited           429 / 99991400 / 190004 / 190005 / 190010: retry after N s
├── UpstreamUnavailable   5xx or network failure after the retries
└── OutcomeUnknown        a write whose result we could not learn and may not replay
Unknown codes become plain FeishuError with Feishu's code and msg.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FeishuError(Exception):
    """A failed Feishu call, with everything the model needs to act on it."""

    operation: str
    code: int
    msg: str
    log_id: str = ""
    http_status: int = 0
    advice: str = ""
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        # -1: no Feishu answer at all (network failure, deadline); there is no code to show.
        code = f"Feishu code {self.code}: " if self.code != -1 else ""
        parts = [f"{self.operation} failed: {code}{self.msg.rstrip('.')}."]
        parts += [f"- {d}" for d in self.details]
        if self.advice:
            parts.append(f"What to do: {self.advice}")
        if self.log_id:
            parts.append(f"(Feishu log id: {self.log_id})")
        return "\n".join(parts)


class AuthRequired(FeishuError):
    pass


class CannotRenew(AuthRequired):
    """A refused token its source has no way to renew (a pre-obtained one): Feishu's refusal is the error."""


class ScopeMissing(FeishuError):
    pass


class AppScopeMissing(FeishuError):
    pass


class PermissionDenied(FeishuError):
    pass


class NotFound(FeishuError):
    pass


class InvalidRequest(FeishuError):
    pass


@dataclass
class RateLimited(FeishuError):
    retry_after: float = 1.0


class UpstreamUnavailable(FeishuError):
    pass


class OutcomeUnknown(FeishuError):
    pass


LOGIN = "sign in again: run `feishu-calendar-mcp login` (or set a fresh FEISHU_USER_ACCESS_TOKEN), then retry"

# code -> (class, advice). From feishu-api.md §10.
ERROR_TABLE: dict[int, tuple[type[FeishuError], str]] = {
    99991661: (AuthRequired, "no user token was sent; " + LOGIN),
    99991668: (AuthRequired, "the user token is invalid, expired, or not accepted here; " + LOGIN),
    99991677: (AuthRequired, "the user token has expired; " + LOGIN),
    99991669: (AuthRequired, "the refresh token is invalid; " + LOGIN),
    99991671: (AuthRequired, "the token is malformed (must start with u-); " + LOGIN),
    99991663: (AuthRequired, "the token is not a valid user token; " + LOGIN),
    99991672: (
        AppScopeMissing,
        "the app lacks this API's scope: enable it in the Feishu developer console "
        "(Permissions & Scopes), publish a new app version, then sign in again",
    ),
    99991676: (ScopeMissing, "the token lacks the permission this API needs; sign in again granting it"),
    99991679: (
        ScopeMissing,
        "the user has not granted the scope; run `feishu-calendar-mcp login --scope SCOPE`",
    ),
    99991401: (PermissionDenied, "this machine's IP is not on the app's allow-list (developer console)"),
    99991403: (FeishuError, "the app's monthly API quota is used up; ask the tenant admin (not retryable)"),
    99991400: (RateLimited, "rate limited by Feishu"),
    190004: (RateLimited, "rate limited (method)"),
    190005: (RateLimited, "rate limited (app)"),
    190010: (RateLimited, "throttled by contention on a shared resource"),
    190002: (InvalidRequest, "fix the parameters named above"),
    # The gateway's own check of a parameter's declared type, range or options.
    99992402: (InvalidRequest, "fix the parameters named above"),
    190014: (InvalidRequest, "fix the parameters named above"),
    190008: (InvalidRequest, "the page_token or sync_token expired: call again without it"),
    190009: (InvalidRequest, "sync_token cannot be combined with start/end"),
    190013: (InvalidRequest, "the content was blocked by Feishu's risk control; rephrase it"),
    190006: (PermissionDenied, "the app belongs to another tenant; check FEISHU_APP_ID"),
    190007: (PermissionDenied, "enable the bot capability of the app in the developer console"),
    191000: (NotFound, "check calendar_id (omit it for your primary calendar)"),
    191001: (InvalidRequest, "calendar_id is malformed; omit it for your primary calendar"),
    191002: (
        PermissionDenied,
        "you have no access role on this calendar: reading needs the reader role, changing events the "
        "writer or owner role; ask the calendar's owner to share it with you",
    ),
    191003: (NotFound, "the calendar was deleted"),
    191004: (
        InvalidRequest,
        "this calendar type does not support the operation (use a primary or shared one)",
    ),
    193000: (InvalidRequest, "event_id is malformed; get ids from list_events or search_events"),
    193001: (NotFound, "no such event on this calendar; find it with search_events or view_instances"),
    193002: (
        PermissionDenied,
        "you cannot change this event: only its organizer (or an attendee allowed by "
        "attendee_ability) can; attendees may change only visibility, free_busy_status, color, reminders",
    ),
    193003: (NotFound, "the event was deleted"),
    193101: (InvalidRequest, "the organizer is a bot: no assign_hosts, allow_attendees_start must be true"),
    193102: (InvalidRequest, "only a human organizer can set assign_hosts"),
    193103: (InvalidRequest, "use a window shorter than 40 days"),
    193104: (InvalidRequest, "more than 1000 occurrences: use a shorter window"),
    193105: (InvalidRequest, "an attachment file_token is invalid"),
    193106: (InvalidRequest, "attachments exceed 25 MB in total"),
    193107: (PermissionDenied, "you have no access to an attachment"),
    194000: (NotFound, "no such attendee; get attendee ids from list_attendees"),
    194001: (
        PermissionDenied,
        "you cannot see this event's attendees (organizer or attendee_ability needed)",
    ),
    194002: (PermissionDenied, "you cannot invite to this event (organizer or can_invite_others needed)"),
    194003: (PermissionDenied, "only the organizer can remove attendees"),
    194004: (InvalidRequest, "invalid attendee type: user, chat, resource or third_party"),
    195100: (
        NotFound,
        "the user has left the tenant or is not in it (attendees must be in the organizer's tenant: "
        "invite someone outside by email, type third_party)",
    ),
    195101: (PermissionDenied, "Exchange bindings need a tenant super-admin"),
    195102: (InvalidRequest, "exchange_binding_id is malformed"),
    195103: (NotFound, "no such Exchange binding"),
    195104: (PermissionDenied, "the Exchange account belongs to another tenant"),
    195105: (PermissionDenied, "the Exchange admin account could not be bound: check its credentials"),
    195106: (NotFound, "the Exchange admin account was not found"),
    195107: (PermissionDenied, "only the chat's owner can unbind the meeting chat"),
    195108: (InvalidRequest, "that chat is not this event's meeting chat"),
    195109: (
        InvalidRequest,
        "the event needs to be on your primary calendar, editable by you, with at least 2 attendees you can see",
    ),
    195110: (InvalidRequest, "the event needs an attendee and attendee_ability other than none"),
    195112: (InvalidRequest, "a meeting password must be 4-9 digits"),
    195113: (InvalidRequest, "only the organizer can set a meeting password"),
    190003: (UpstreamUnavailable, "Feishu had an internal error; retry later"),
    # The scheduling look-ups (scheduling-api.md): batch free/busy, contact, group chats, vc rooms.
    198001: (InvalidRequest, "batch free/busy takes 1 to 10 people a call"),
    198002: (InvalidRequest, "times must be RFC 3339 date-times such as 2026-11-24T09:00:00+08:00"),
    198003: (InvalidRequest, "the window must end after it starts and span at most 2 weeks a call"),
    198004: (InvalidRequest, "use an IANA time zone name such as Asia/Shanghai"),
    41012: (NotFound, "no such user id: find the person by name with find_people"),
    41050: (PermissionDenied, "that person is outside the part of the directory you may see"),
    232006: (NotFound, "no such group chat: give the chat's name as you see it in Feishu"),
    232010: (PermissionDenied, "that group chat belongs to another organization"),
    232011: (
        PermissionDenied,
        "you are not in that group chat, so its members cannot be listed: name the people instead",
    ),
    121003: (InvalidRequest, "fix the room search parameters (page_size 1-100)"),
    121004: (NotFound, "no such room or room level: find rooms by name with find_rooms"),
    121005: (PermissionDenied, "no permission for this room API with your sign-in (it may take app tokens only)"),
}


# Where one operation has a better next step than the code's general one.
OPERATION_ADVICE: dict[tuple[str, int], str] = {
    # An invitation cannot be deleted by an attendee: declining it is what they can do.
    ("delete_event", 193002): (
        "only the organizer can delete this event; you are an attendee: decline it with reply_event "
        "(rsvp_status decline)"
    ),
    # A reply comes from an invitee; "get attendee ids from list_attendees" is no step here (reply takes none).
    ("reply_event", 194000): (
        "you are not among this event's attendees, so there is no invitation to answer (an event's organizer "
        "has none either); get_event with need_attendee=true shows who is invited"
    ),
}


def _violations(error: Any) -> tuple[list[str], list[str]]:
    """(field violation lines, missing scopes) from Feishu's ``error`` object, both shapes tolerated."""
    if not isinstance(error, dict):
        return [], []
    fields = [
        f"{v.get('field', '?')}: {v.get('description') or 'invalid'}"
        + (f" (got {v['value']!r})" if v.get("value") not in (None, "") else "")
        for v in error.get("field_violations") or []
        if isinstance(v, dict)
    ]
    scopes = [
        str(v.get("subject") or v.get("scope"))
        for v in error.get("permission_violations") or []
        if isinstance(v, dict) and (v.get("subject") or v.get("scope"))
    ]
    return fields, scopes


def log_id_of(error: Any) -> str:
    """The log id in the body's ``error.log_id`` (lark-oapi's ``Error.log_id``), for when the
    ``X-Tt-Logid`` header (what the SDK's ``get_log_id`` reads) did not survive the way back."""
    return str(error.get("log_id") or "") if isinstance(error, dict) else ""


def _fallback(status: int) -> tuple[type[FeishuError], str]:
    """Class and advice for a code the table does not know, from the HTTP status alone."""
    if status >= 500:
        return UpstreamUnavailable, "Feishu is having trouble; retry in a minute"
    if status == 429:
        return RateLimited, "rate limited by Feishu"
    if status == 401:
        return AuthRequired, LOGIN
    if status == 403:
        return PermissionDenied, "you lack access to this calendar or event, or the app lacks a scope"
    if status == 404:
        return NotFound, "check the ids (find events with search_events or view_instances)"
    if 400 <= status < 500:
        return InvalidRequest, "Feishu rejected the request; check the arguments against the tool description"
    return FeishuError, ""


def _scope_advice(code: int, scopes: Sequence[str]) -> str:
    wanted = ", ".join(scopes)
    if code == 99991672:
        return (
            f"the app itself lacks the scope ({wanted}): a developer must enable it under Permissions & Scopes "
            "in the Feishu developer console and publish a new app version; signing in again will not help"
        )
    return f"the user has not granted the scope; run `feishu-calendar-mcp login --scope {scopes[0]}` and retry"


def from_response(
    operation: str,
    status: int,
    code: int,
    msg: str,
    log_id: str,
    error: Any,
    retry_after: float | None,
    scopes: Sequence[str] = (),
    *,
    not_feishu: bool = False,
) -> FeishuError:
    """The typed error for a Feishu failure response.

    ``scopes`` are the operation's own scopes: named when Feishu reports a missing scope
    without saying which (permission_violations is optional). ``not_feishu``: the body had no
    Feishu envelope at all.
    """
    cls, advice = ERROR_TABLE.get(code) or _fallback(status)
    advice = OPERATION_ADVICE.get((operation, code), advice)
    if not_feishu and status < 500:
        # A page without Feishu's envelope (a 200 from a captive portal, a 404 from another web
        # server): most likely not Feishu at all. A 5xx page is a proxy in trouble: retried instead.
        advice = f"the answer was not Feishu's; check the address, which {DOMAIN_SETTING} chooses"
    fields, missing = _violations(error)
    details = list(fields)
    log_id = log_id or log_id_of(error)
    if code in (99991672, 99991676, 99991679):
        missing = missing or list(scopes)
        if missing:
            details.append("missing scope (any one of): " + ", ".join(missing))
            advice = _scope_advice(code, missing)
    if cls is RateLimited:
        wait = retry_after if retry_after is not None else 1.0
        return RateLimited(
            operation, code, msg, log_id, status, f"{advice}; retry after {wait:g} s", details, retry_after=wait
        )
    return cls(operation, code, msg, log_id, status, advice, details)


DOMAIN_SETTING = "FEISHU_DOMAIN (or serve --domain): feishu, lark, or the base URL of a Feishu API"


def unreachable(api_base: str, failure: str) -> str:
    """What a connection failure detail says: the address tried, why, and the setting that chose it."""
    return f"could not connect to {api_base.rstrip('/')} ({failure}); that address comes from {DOMAIN_SETTING}"


def outcome_unknown(operation: str, what: str, log_id: str = "") -> OutcomeUnknown:
    """The error for a write that may or may not have happened and may not be replayed blindly.

    The advice here is generic; the operation's own ``outcome_check`` (tools/) replaces it with
    the tool call that settles it (server/writes.py).
    """
    check = "check the current state with a read tool"
    return OutcomeUnknown(
        operation,
        -1,
        f"no answer from Feishu ({what}); the change may or may not have been made",
        log_id,
        advice=f"do not simply retry: {check}",
    )
