"""docs/auth.md's scope table is generated from the tool declarations: fail when it drifts."""

from __future__ import annotations

import re
from pathlib import Path

from auth.scopes import minimal_scopes, scope_table
from tools import OPERATIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def test_scope_table_is_current() -> None:
    match = re.search(r"<!-- scope-table:start -->\n(.*?)\n<!-- scope-table:end -->", DOC.read_text(), re.S)
    assert match, "docs/auth.md has no scope-table section"
    rows = ((op.name, op.toolset, scopes) for op in OPERATIONS for scopes in op.scope_sets)
    assert match.group(1) == scope_table(rows)


def test_every_tool_is_covered_without_umbrella_scopes() -> None:
    chosen = minimal_scopes(s for op in OPERATIONS for s in op.scope_sets)
    assert all(set(s) & set(chosen) for op in OPERATIONS for s in op.scope_sets)
    assert "calendar:calendar" not in chosen and "calendar:calendar:readonly" not in chosen
    assert chosen[-1] == "offline_access" and len(chosen) == len(set(chosen))
