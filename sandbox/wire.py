"""Feishu's wire format, shared by every route module.

* :class:`FeishuFault` is raised anywhere inside a handler; :func:`api_route` turns it into the
  ``{code, msg, error}`` envelope with its HTTP status.
* :func:`api_route` builds a Starlette route around a plain (synchronous) handler that receives a
  :class:`Call` (authenticated caller, parsed query and JSON body) and returns the ``data`` object.
* :class:`Call` carries the validation helpers (page sizes, required fields, booleans) that raise
  Feishu's refusals with ``field_violations``: the gateway's 99992402 for a query parameter that
  breaks its declared type, range or options, the calendar service's 190002 otherwise.
* :func:`page` slices a list with Feishu's ``page_token``/``has_more`` convention.

Example of a module contributing routes (what ``app.ROUTE_MODULES`` lists)::

    def routes(sb: Api) -> list[BaseRoute]:
        return [api_route(sb, "GET", CALENDAR + "/things", list_things, scopes=READ_SCOPES)]

    def list_things(call: Call) -> dict[str, Any]:
        size = call.query_int("page_size", default=20, low=10, high=100)
        return page(call, things, size)
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.state import AccessToken, User

if TYPE_CHECKING:
    from sandbox.core import Api

INVALID_PARAMETER = 190002
# The gateway's answer when a parameter breaks its declared type, range or options (Feishu's generic
# code list: "request parameters missing or wrong"), before the calendar service sees the request.
FIELD_VALIDATION = 99992402
# An integer as a Go server reads one (strconv.Atoi: ASCII digits, one optional sign; assumed for Feishu's
# gateway). Python's int() also takes spaces, underscores and any Unicode digit, and "¹".isdigit() is True.
INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII
)
EMPLOYEE_ID_SCOPE = "contact:user.employee_id:readonly"
CALENDAR_V4 = "/open-apis/calendar/v4"
# Where api_route leaves the envelope's code in the request's state for the request log, so that the
# middleware need not parse the body it is passing on just to learn it.
FEISHU_CODE = "sandbox.feishu_code"

T = TypeVar("T")


class FeishuFault(Exception):
    """A Feishu error reply: ``code``/``msg`` in the envelope, ``extra`` merged into ``error``."""

    def __init__(
        self,
        code: int,
        msg: str,
        http_status: int = 400,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.extra = extra or {}
        self.headers = headers or {}


def invalid(field: str, value: Any, description: str, code: int = INVALID_PARAMETER) -> FeishuFault:
    """Feishu's invalid-parameter reply naming the offending field."""
    violation = {"field": field, "value": "" if value is None else str(value), "description": description}
    return FeishuFault(code, f"invalid parameters: {field}", 400, {"field_violations": [violation]})


def field_validation(field: str, value: Any, description: str) -> FeishuFault:
    """The gateway's refusal of a parameter that breaks its declared type, range or options."""
    violation = {"field": field, "value": "" if value is None else str(value), "description": description}
    return FeishuFault(FIELD_VALIDATION, "field validation failed", 400, {"field_violations": [violation]})


def ascii_int(raw: str) -> int | None:
    """``raw`` as an integer when it is one in Feishu's sense (ASCII digits, optional sign), else None."""
    return int(raw) if INTEGER.fullmatch(raw) else None


def parse_rfc3339(name: str, raw: Any, code: int = INVALID_PARAMETER) -> dt.datetime:
    """An RFC 3339 date-time with its offset; ``name`` is the field refused otherwise.

    fromisoformat alone also takes week dates, the basic format, a space for "T" and no offset.
    """
    if not isinstance(raw, str) or not raw:
        raise invalid(name, raw, "is required (RFC 3339)", code)
    if not RFC3339.fullmatch(raw):
        raise invalid(name, raw, "must be an RFC 3339 date-time such as 2020-10-28T12:00:00+08:00", code)
    return dt.datetime.fromisoformat(raw)


def envelope(data: dict[str, Any] | None) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": data if data is not None else {}}


class RenderedJSON(list[bytes]):
    """A handler's ``data`` serialized already, as pieces of UTF-8 JSON to be joined once.

    api_route sends ``b"".join`` of the envelope's head, these pieces and its tail: the bytes
    JSONResponse(envelope(data)) would have sent. Listings build their answer from JSON they keep
    per event (render.event_text) instead of rendering and dumping every event on every request;
    pieces rather than one bytes object, so that a 1,000-event page is copied once, not at every
    level of nesting. Bytes rather than str: joining str of mixed widths (any Chinese title)
    converts, and the answer needs no final encode.
    """


def to_json(value: Any) -> bytes:
    """``value`` as JSONResponse writes it (Starlette's JSONResponse.render)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def json_object(members: Sequence[tuple[str, bytes | list[bytes]]]) -> RenderedJSON:
    """An object from (name, JSON of the value, or pieces of it): what to_json of the dict would give."""
    pieces = RenderedJSON([b"{"])
    for name, value in members:
        pieces += (b"," if len(pieces) > 1 else b"", to_json(name), b":")
        pieces += value if isinstance(value, list) else (value,)
    pieces.append(b"}")
    return pieces


def json_array(texts: Sequence[bytes]) -> list[bytes]:
    """An array of JSON texts, as pieces for json_object."""
    return [b"[", b",".join(texts), b"]"]


def fault_response(fault: FeishuFault, logid: str) -> Response:
    error = {"log_id": logid, **fault.extra}
    body = {"code": fault.code, "msg": fault.msg, "error": error}
    return JSONResponse(body, status_code=fault.http_status, headers=fault.headers)


@dataclass
class Call:
    """One authenticated API request, as a handler sees it."""

    sb: Api
    request: Request
    token: AccessToken
    user: User | None  # None when the app itself calls (tenant token)
    body: dict[str, Any]

    # What a handler reads of its request, worked out once (a listing asks for the same ones per event).
    _id_type: str | None = dataclasses.field(default=None, init=False, repr=False)

    @functools.cached_property
    def path(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.request.path_params.items()}

    @functools.cached_property
    def _query(self) -> dict[str, str]:
        # Each name's last value, as query_params.get answers; a plain dict because asking Starlette's
        # for an absent name (user_id_type, for each user an answer names) raises and catches KeyError.
        return dict(self.request.query_params.items())

    @property
    def app_id(self) -> str:
        return self.token.app_id

    def query(self, name: str) -> str | None:
        return self._query.get(name)

    def query_list(self, name: str) -> list[str]:
        return self.request.query_params.getlist(name)

    def query_int(self, name: str, *, default: int, low: int, high: int) -> int:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        value = ascii_int(raw)
        if value is None:
            raise field_validation(name, raw, f"{name} must be an integer")
        if value < low:
            raise field_validation(name, raw, f"the min value is {low}")
        if value > high:
            raise field_validation(name, raw, f"the max value is {high}")
        return value

    def query_bool(self, name: str, default: bool) -> bool:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        # Case-insensitive: the official Python SDK sends str(True), i.e. "True".
        if raw.lower() not in ("true", "false"):
            raise field_validation(name, raw, f"{name} must be a boolean: true or false")
        return raw.lower() == "true"

    def query_unix(self, name: str, *, required: bool = False) -> int | None:
        """A Unix-seconds query parameter, sent as a string of digits."""
        raw = self.query(name)
        if raw is None or raw == "":
            if required:
                raise invalid(name, raw, "is required")
            return None
        # A string parameter: the calendar service, not the gateway, reads it (hence 190002).
        if not (raw.isascii() and raw.isdigit()):
            raise invalid(name, raw, "must be a Unix timestamp in seconds")
        return int(raw)

    def user_id_type(self) -> str:
        if self._id_type is not None:
            return self._id_type
        value = self.query("user_id_type") or "open_id"
        if value not in ("open_id", "union_id", "user_id"):
            options = "user_id_type is optional, options: [open_id,union_id,user_id]"
            raise field_validation("user_id_type", value, options)
        if value == "user_id" and self.token.is_user and EMPLOYEE_ID_SCOPE not in self.token.scopes:
            # Employee ids are personal data behind their own scope (feishu-api.md §1).
            violation = {"type": "action_scope_required", "subject": EMPLOYEE_ID_SCOPE, "description": "user scope"}
            raise FeishuFault(
                99991679,
                f"Unauthorized. user_id_type=user_id needs the scope [{EMPLOYEE_ID_SCOPE}]",
                403,
                {"permission_violations": [violation]},
            )
        self._id_type = value
        return value

    def user_ref(self, user: User) -> str:
        """The user's id in the kind the caller asked for with user_id_type."""
        kind = self.user_id_type()
        return user.open_id if kind == "open_id" else user.union_id if kind == "union_id" else user.user_id

    def field(self, name: str, kind: type[T], *, required: bool = False) -> T | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise invalid(name, None, "is required")
            return None
        if kind is int and isinstance(value, bool):
            raise invalid(name, value, "must be an integer")
        if not isinstance(value, kind):
            raise invalid(name, value, f"must be a {kind.__name__}")
        return value

    def required_field(self, name: str, kind: type[T]) -> T:
        value = self.field(name, kind, required=True)
        assert value is not None  # field(required=True) raised otherwise
        return value


Handler = Callable[[Call], dict[str, Any] | RenderedJSON | None]


def api_route(
    sb: Api,
    method: str,
    path: str,
    handler: Handler,
    *,
    scopes: Sequence[str],
    user_only: bool = False,
    tenant_only: bool = False,
) -> BaseRoute:
    """A Starlette route: authenticate (any one of ``scopes``), parse, run ``handler``, wrap in the envelope."""

    async def endpoint(request: Request) -> Response:
        logid = request.state.logid
        try:
            token, user = sb.authenticate(request, scopes=scopes, user_only=user_only, tenant_only=tenant_only)
            body = await _json_body(request)
            call = Call(sb=sb, request=request, token=token, user=user, body=body)
            if "user_id_type" in request.query_params:
                call.user_id_type()  # refused up front, even when nothing in the reply names a user
            sb.settle()  # what happened meanwhile (rooms answering) is seen by this request
            data = handler(call)
        except FeishuFault as fault:
            request.scope.setdefault("state", {})[FEISHU_CODE] = fault.code
            return fault_response(fault, logid)
        request.scope.setdefault("state", {})[FEISHU_CODE] = 0
        if isinstance(data, RenderedJSON):
            # What JSONResponse(envelope(data)) would send: the same bytes and the same headers.
            text = b"".join([b'{"code":0,"msg":"success","data":', *data, b"}"])
            return Response(text, media_type=JSONResponse.media_type)
        return JSONResponse(envelope(data))

    return Route(path, endpoint, methods=[method])


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise FeishuFault(INVALID_PARAMETER, "invalid parameters: request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise FeishuFault(INVALID_PARAMETER, "invalid parameters: request body must be a JSON object")
    return parsed


def encode_token(kind: str, position: int | str) -> str:
    """An opaque paging or sync token (Feishu's are opaque; these just encode a position)."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode_token(kind: str, token: str, code: int = 190008) -> str:
    """The position in a token made by :func:`encode_token`; anything else is an expired token."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        raise FeishuFault(code, "page_token or sync_token is invalid or expired") from None
    prefix, _, position = text.partition(":")
    if prefix != kind or not position:
        raise FeishuFault(code, "page_token or sync_token is invalid or expired")
    return position


def decode_offset(kind: str, token: str, code: int = 190008) -> int:
    """The list offset in a page token made by ``encode_token(kind, offset)``."""
    position = decode_token(kind, token, code)
    if not (position.isascii() and position.isdigit()):
        raise FeishuFault(code, "page_token is invalid or expired")
    return int(position)


def page(call: Call, items: Sequence[dict[str, Any]], page_size: int, kind: str = "page") -> dict[str, Any]:
    """One page of ``items``: ``items``, ``has_more`` and (only when more remain) ``page_token``."""
    token = call.query("page_token")
    start = decode_offset(kind, token) if token else 0
    chunk = list(items[start : start + page_size])
    has_more = start + page_size < len(items)
    result: dict[str, Any] = {"items": chunk, "has_more": has_more}
    if has_more:
        result["page_token"] = encode_token(kind, start + page_size)
    return result
