"""Every tool the server offers is exercised end to end by this directory's tests."""

from __future__ import annotations

import re
from pathlib import Path

from tools import OPERATIONS
from tools.context import get_current_context


def test_every_tool_is_called_through_the_client() -> None:
    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*_e2e.py"))
    called = set(re.findall(r'\.(?:call|fail)\(\s*"([a-z_]+)"', sources))
    expected = {op.name for op in OPERATIONS} | {get_current_context.name}
    assert expected - called == set(), f"tools without an end-to-end test: {sorted(expected - called)}"
