"""The layout of ``tools/``: a reader finds any tool by its toolset, and tool modules stay declarative.

``tools/<toolset>.py`` or ``tools/<toolset>_<part>.py`` holds that toolset's declarations and nothing
of another toolset's; ``tools/common/`` holds what they share and declares no tool. Tool modules do
no HTTP, touch no tokens and catch nothing: the one client does that.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, get_args

import pytest

from tools import OPERATIONS
from tools.context import get_current_context
from tools.spec import Operation, Toolset

TOOLS = Path(__file__).resolve().parent.parent / "tools"
TOOLSETS = set(get_args(Toolset))
EVERY_TOOL = (get_current_context, *OPERATIONS)
TOOL_MODULES = sorted(p for p in TOOLS.glob("*.py") if p.stem not in {"__init__", "spec"})
COMMON_MODULES = sorted((TOOLS / "common").glob("*.py"))


def _declared_in(path: Path) -> set[str]:
    """Names assigned ``Operation(...)`` at the top level of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "Operation"
        for target in node.targets
        if isinstance(target, ast.Name)
    }


DECLARED = {path.stem: _declared_in(path) for path in TOOL_MODULES}


def _module_of(op: Operation[Any, Any]) -> str:
    homes = [stem for stem, names in DECLARED.items() if op.name in names]
    assert len(homes) == 1, f"{op.name} is declared in {homes or 'no tools/<toolset>.py'}"
    return homes[0]


@pytest.mark.parametrize("path", TOOL_MODULES, ids=lambda p: p.name)
def test_each_tool_module_is_named_after_the_toolset_it_holds(path: Path) -> None:
    toolset = path.stem.split("_")[0]
    assert toolset in TOOLSETS, f"tools/{path.name}: '{toolset}' is not a toolset ({sorted(TOOLSETS)})"
    own = [op for op in EVERY_TOOL if _module_of(op) == path.stem]
    assert own, f"tools/{path.name} declares no tool: shared code belongs in tools/common/"
    assert {op.toolset for op in own} == {toolset}, [(op.name, op.toolset) for op in own]


def test_every_tool_is_found_by_its_toolset() -> None:
    for op in EVERY_TOOL:
        module = _module_of(op)
        assert module.split("_")[0] == op.toolset, (op.name, module)


@pytest.mark.parametrize("path", COMMON_MODULES, ids=lambda p: p.name)
def test_common_declares_no_tool(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert not [c for c in calls if c.func.id == "Operation"], f"tools/common/{path.name} declares a tool"  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", [*TOOL_MODULES, *COMMON_MODULES], ids=lambda p: str(p.relative_to(TOOLS)))
def test_tool_code_does_no_http_and_holds_no_token(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    }
    assert not {m for m in imported if m.split(".")[0] in {"httpx", "httpx2", "aiohttp", "auth", "server", "mcp"}}
    text = path.read_text(encoding="utf-8")
    assert "access_token" not in text and "Authorization" not in text


@pytest.mark.parametrize("path", TOOL_MODULES, ids=lambda p: p.name)
def test_tool_declarations_catch_nothing(path: Path) -> None:
    """Failures travel to the one client, which turns them into errors the model can act on.

    (``tools/common/`` parses input, so its validators turn parse errors into field errors.)"""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Try, ast.TryStar))], "catching belongs to the client"
