"""Print the README's tool table (interface function -> tool -> route) from the declarations.

`python scripts/tool_table.py` prints it; tests/test_docs.py fails when the README drifts from it.
"""

from __future__ import annotations

from auth.scopes import minimal_scopes, pick_scope
from server.settings import TOOLSETS
from tools import OPERATIONS


def tool_table() -> str:
    rows = [
        "| # | Interface function | Tool | HTTP route | Toolset | Read-only | Scope `login` asks for |",
        "|---|---|---|---|---|---|---|",
    ]
    chosen = minimal_scopes(s for op in OPERATIONS for s in op.scope_sets)
    for number, op in enumerate(OPERATIONS, 1):
        route = op.route.replace("{", ":").replace("}", "")
        function = f"`{op.interface_function}`" if op.interface_function else "(scheduling)"
        scopes = ", ".join(dict.fromkeys(f"`{pick_scope(s, chosen)}`" for s in op.scope_sets))
        rows.append(
            f"| {number} | {function} | `{op.name}` | `{op.method} {route}` | {op.toolset} | "
            f"{'yes' if op.read_only else 'no'} | {scopes} |"
        )
    return "\n".join(rows)


def toolset_counts() -> str:
    lines = ["| Toolset | Tools | Read-only tools |", "|---|---|---|"]
    for name in TOOLSETS:
        ops = [op for op in OPERATIONS if op.toolset == name]
        lines.append(f"| {name} | {len(ops)} | {sum(op.read_only for op in ops)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(tool_table())
    print()
    print(toolset_counts())
