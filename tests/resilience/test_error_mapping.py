"""Every Feishu failure reaches the model as something it can act on, from the one mapping table."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client

from bench.procs import free_port
from server import errors
from server.app import build_server
from server.clock import VirtualClock
from server.static_token import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.upstream import Upstream, reply, server_for, text

pytestmark = pytest.mark.anyio
EVENT = {"calendar_id": "cal_1@x", "event_id": "e1_0"}

# feishu-api.md §10.2 and §10.3: every code documented there, with the class it must map to.
DOCUMENTED: dict[int, type[errors.FeishuError]] = {
    99991400: errors.RateLimited,
    99991401: errors.PermissionDenied,
    99991403: errors.FeishuError,
    99991661: errors.AuthRequired,
    99991663: errors.AuthRequired,
    99991668: errors.AuthRequired,
    99991669: errors.AuthRequired,
    99991671: errors.AuthRequired,
    99991672: errors.AppScopeMissing,
    99991676: errors.ScopeMissing,
    99991677: errors.AuthRequired,
    99991679: errors.ScopeMissing,
    190002: errors.InvalidRequest,
    99992402: errors.InvalidRequest,
    190003: errors.UpstreamUnavailable,
    190004: errors.RateLimited,
    190005: errors.RateLimited,
    190006: errors.PermissionDenied,
    190007: errors.PermissionDenied,
    190008: errors.InvalidRequest,
    190009: errors.InvalidRequest,
    190010: errors.RateLimited,
    190013: errors.InvalidRequest,
    190014: errors.InvalidRequest,
    191000: errors.NotFound,
    191001: errors.InvalidRequest,
    191002: errors.PermissionDenied,
    191003: errors.NotFound,
    191004: errors.InvalidRequest,
    193000: errors.InvalidRequest,
    193001: errors.NotFound,
    193002: errors.PermissionDenied,
    193003: errors.NotFound,
    194000: errors.NotFound,
    194001: errors.PermissionDenied,
    194002: errors.PermissionDenied,
    194003: errors.PermissionDenied,
    194004: errors.InvalidRequest,
    195100: errors.NotFound,
    195101: errors.PermissionDenied,
    195107: errors.PermissionDenied,
    195109: errors.InvalidRequest,
    195112: errors.InvalidRequest,
    # scheduling-api.md: calendar-v4/calendar/batch.md, contact-v3/user/get.md, group/chat-member/get.md,
    # vc-v1/room/search.md.
    198001: errors.InvalidRequest,
    198002: errors.InvalidRequest,
    198003: errors.InvalidRequest,
    198004: errors.InvalidRequest,
    41012: errors.NotFound,
    41050: errors.PermissionDenied,
    232006: errors.NotFound,
    232010: errors.PermissionDenied,
    232011: errors.PermissionDenied,
    121003: errors.InvalidRequest,
    121004: errors.NotFound,
    121005: errors.PermissionDenied,
}


def mapped(code: int, status: int = 400, error: Any = None, scopes: tuple[str, ...] = ()) -> errors.FeishuError:
    return errors.from_response("op", status, code, "feishu says no", "LOG9", error, 3.0, scopes)


@pytest.mark.parametrize(("code", "cls"), sorted(DOCUMENTED.items()))
def test_documented_codes_map_to_their_class_with_advice(code: int, cls: type[errors.FeishuError]) -> None:
    err = mapped(code)
    assert type(err) is cls
    message = str(err)
    assert str(code) in message
    assert "feishu says no" in message
    assert "What to do:" in message
    assert "LOG9" in message


def test_every_table_entry_has_advice() -> None:
    for code, (_, advice) in errors.ERROR_TABLE.items():
        assert advice.strip(), code


@pytest.mark.parametrize(
    "violations",
    [
        [{"subject": "calendar:calendar.event:create", "type": "scope"}, {"subject": "calendar:calendar"}],
        [{"scope": "calendar:calendar.event:create", "url": "https://open.feishu.cn/..."}],
    ],
)
def test_user_missing_scope_names_scopes_and_the_login_command(violations: list[dict[str, str]]) -> None:
    err = mapped(99991679, error={"permission_violations": violations})
    message = str(err)
    assert isinstance(err, errors.ScopeMissing)
    assert "calendar:calendar.event:create" in message
    assert "feishu-calendar-mcp login --scope calendar:calendar.event:create" in message


def test_missing_scope_without_violations_names_the_operations_scopes() -> None:
    err = mapped(99991679, scopes=("calendar:calendar", "calendar:calendar.event:delete"))
    assert "calendar:calendar.event:delete" in str(err)
    assert "login --scope calendar:calendar" in str(err)


def test_app_missing_scope_points_at_the_developer_console() -> None:
    err = mapped(99991672, status=403, error={"permission_violations": [{"subject": "calendar:calendar"}]})
    assert isinstance(err, errors.AppScopeMissing)
    message = str(err)
    assert "developer console" in message
    assert "calendar:calendar" in message
    assert "signing in again will not help" in message


def test_field_violations_are_listed() -> None:
    error = {
        "field_violations": [
            {"field": "summary", "value": "x" * 3, "description": "too long"},
            {"field": "reminders[0].minutes", "description": "out of range"},
        ]
    }
    message = str(mapped(190014, error=error))
    assert "summary: too long (got 'xxx')" in message
    assert "reminders[0].minutes: out of range" in message


def test_rate_limit_says_when_to_retry() -> None:
    assert "retry after 3 s" in str(mapped(190005, status=429))


def test_unknown_codes_keep_code_and_message() -> None:
    err = mapped(1234567, status=400)
    message = str(err)
    assert "1234567" in message
    assert "feishu says no" in message
    assert "LOG9" in message


def test_the_log_id_falls_back_to_the_body() -> None:
    # Feishu's body spells it error.log_id (lark-oapi's core.model.Error has log_id, no logid).
    err = errors.from_response("op", 400, 190002, "bad", "", {"log_id": "BODYLOG"}, None)
    assert "BODYLOG" in str(err)
    assert errors.log_id_of({"logid": "NOT_FEISHUS"}) == ""


def test_the_header_log_id_wins_over_the_body() -> None:
    err = errors.from_response("op", 400, 190002, "bad", "HEADERLOG", {"log_id": "BODYLOG"}, None)
    assert err.log_id == "HEADERLOG"


async def test_the_log_id_reaches_the_model_from_the_body_when_the_header_is_gone() -> None:
    # A proxy on the way back may drop X-Tt-Logid; the body still carries error.log_id.
    upstream = Upstream(reply(193002, status=403, msg="no permission", error={"log_id": "2026BODYONLY"}))
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("update_event", {**EVENT, "summary": "x"})
    assert "(Feishu log id: 2026BODYONLY)" in text(result)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, errors.UpstreamUnavailable),
        (429, errors.RateLimited),
        (401, errors.AuthRequired),
        (403, errors.PermissionDenied),
        (404, errors.NotFound),
        (400, errors.InvalidRequest),
    ],
)
def test_unknown_codes_are_classed_by_http_status(status: int, cls: type[errors.FeishuError]) -> None:
    assert type(mapped(7, status=status)) is cls


async def test_the_model_sees_the_whole_story_through_mcp() -> None:
    upstream = Upstream(
        reply(
            193002,
            status=403,
            msg="no permission",
            headers={"x-tt-logid": "20261201ABC"},
            error={"troubleshooter": "https://open.feishu.cn/search?log_id=20261201ABC"},
        )
    )
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("update_event", {**EVENT, "summary": "x"})
    assert result.is_error
    message = text(result)
    assert "update_event failed: Feishu code 193002: no permission" in message
    assert "organizer" in message
    assert "20261201ABC" in message


async def test_a_non_feishu_error_page_is_a_clear_upstream_failure() -> None:
    upstream = Upstream(default=httpx2.Response(502, text="<html>Bad Gateway</html>"))
    async with Client(server_for(upstream, VirtualClock(), max_attempts=2)) as client:
        result = await client.call_tool("get_event", EVENT)
    assert result.is_error
    message = text(result)
    assert "HTTP 502 from https://open.feishu.cn/open-apis/calendar/v4/calendars/cal_1@x/events/e1_0" in message
    assert "not a Feishu reply" in message
    assert "retry this call in a minute" in message


async def test_a_success_status_without_feishus_envelope_points_at_the_domain() -> None:
    upstream = Upstream(httpx2.Response(200, text="<html>Welcome to the hotel wifi</html>"))
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("get_event", EVENT)
    assert result.is_error
    message = text(result)
    assert "HTTP 200 from https://open.feishu.cn/open-apis/" in message and "not a Feishu reply" in message
    assert "FEISHU_DOMAIN (or serve --domain)" in message
    assert "code -1" not in message


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"code": 0, "data": {"summary": "\\ud800"}}', b"\xff\xfe"],
    ids=["nested-too-deep", "lone-surrogate", "not-utf8"],
)
async def test_an_answer_that_is_not_json_we_can_read_is_not_a_feishu_reply(body: bytes) -> None:
    """Never an internal error: json.loads raised RecursionError (not ValueError) on the first."""
    upstream = Upstream(httpx2.Response(200, content=body))
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("get_event", EVENT)
    assert result.is_error
    message = text(result)
    assert "not a Feishu reply" in message and "internal error" not in message


async def test_a_web_server_that_is_not_feishu_is_named_with_the_setting() -> None:
    upstream = Upstream(httpx2.Response(404, text="<html>Not Found</html>"))
    async with Client(server_for(upstream, VirtualClock())) as client:
        result = await client.call_tool("get_event", EVENT)
    message = text(result)
    assert "HTTP 404 from https://open.feishu.cn/open-apis/calendar/v4/calendars/cal_1@x/events/e1_0" in message
    assert "check the address, which FEISHU_DOMAIN (or serve --domain)" in message
    assert "check the ids" not in message  # not a missing event: not Feishu at all


@pytest.mark.parametrize(("tool", "arguments"), [("get_event", EVENT), ("delete_event", EVENT)])
async def test_an_unreachable_domain_names_the_url_and_the_setting(tool: str, arguments: dict[str, Any]) -> None:
    port = free_port()  # nothing listens there: every attempt is refused
    settings = all_tools_settings(domain=f"http://127.0.0.1:{port}", max_attempts=2)
    server = build_server(settings, StaticToken("u-test"), clock=VirtualClock())
    async with Client(server) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    message = text(result)
    assert f"could not connect to http://127.0.0.1:{port} (ConnectError: " in message
    assert "that address comes from FEISHU_DOMAIN (or serve --domain)" in message
    assert "nothing was changed" in message if tool == "delete_event" else "retry this call" in message


async def test_an_unreachable_token_endpoint_names_the_url_and_the_setting() -> None:
    from auth.errors import TokenEndpointError
    from auth.oauth import AppCredentials, Endpoints, refresh_grant
    from server.tokens import auth_required

    endpoints = Endpoints.for_domain(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TokenEndpointError) as caught:
        await refresh_grant(AppCredentials("cli_x", "secret"), endpoints, "rt-s3cret-123")
    message = str(auth_required(caught.value, "feishu-calendar-mcp login"))
    assert f"could not reach the token endpoint {endpoints.token_url} (ConnectError)" in message
    assert "FEISHU_OAUTH_TOKEN_URL" in message and "FEISHU_DOMAIN" in message
    assert "rt-s3cret" not in message and "secret" not in message
