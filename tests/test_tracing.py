"""The SDK's span per message is kept only where spans are recorded (server/app.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server._otel import OpenTelemetryMiddleware
from opentelemetry import trace

from server.app import build_server, tracing_installed
from server.results import built_once
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio


class RecordingProvider(trace.TracerProvider):
    """A tracer provider of an app's own (what opentelemetry-instrument or an embedding app installs)."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> trace.Tracer:
        return trace.NoOpTracer()


def _spans(middleware: Sequence[object]) -> list[object]:
    return [m for m in middleware if isinstance(m, OpenTelemetryMiddleware)]


def test_only_a_real_tracer_provider_records_spans() -> None:
    assert not tracing_installed(trace.ProxyTracerProvider())  # nothing installed (yet)
    assert not tracing_installed(trace.NoOpTracerProvider())
    assert tracing_installed(RecordingProvider())


async def test_without_a_tracer_provider_the_span_middleware_is_dropped_and_calls_work() -> None:
    def upstream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 0, "msg": "ok", "data": {"items": [], "has_more": False}})

    assert not tracing_installed(trace.get_tracer_provider())  # the test process installs none
    server = build_server(all_tools_settings(), StaticToken("u-test"), transport=httpx2.MockTransport(upstream))
    assert _spans(server.middleware) == [] and built_once in server.middleware
    async with Client(server) as client:
        result = await client.call_tool("list_events", {"calendar_id": "cal@x"})
    assert not result.is_error and result.structured_content == {
        "items": [],
        "has_more": False,
        "page_token": "",
        "sync_token": "",
    }


def test_with_a_tracer_provider_every_message_keeps_its_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", RecordingProvider)  # server/app.py reads it through the module
    server = build_server(all_tools_settings(), StaticToken("u-test"))
    assert len(_spans(server.middleware)) == 1 and server.middleware[0] is _spans(server.middleware)[0]
    assert built_once in server.middleware
