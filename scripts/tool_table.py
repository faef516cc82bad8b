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
    chosen = minimal_scopes(op.scopes for op in OPERATIONS)
    for number, op in enumerate(OPERATIONS, 1):
        route = op.route.replace("{", ":").replace("}", "")
        rows.append(
            f"| {number} | `{op.interface_function}` | `{op.name}` | `{op.method} {route}` | {op.toolset} | "
            f"{'yes' if op.read_only else 'no'} | `{pick_scope(op.scopes, chosen)}` |"
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
