"""The README's tables are generated from the declarations: fail when they drift."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.tool_table import tool_table, toolset_counts

README = Path(__file__).parent.parent / "README.md"


def section(name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", README.read_text(), re.S)
    assert match, f"README has no {name} section"
    return match.group(1)


def test_tool_table_is_current() -> None:
    assert section("tool-table") == tool_table(), "run `python scripts/tool_table.py` and update the README"


def test_toolset_table_is_current() -> None:
    assert section("toolset-table") == toolset_counts()
