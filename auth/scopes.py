"""Which OAuth scopes to ask for: the narrowest set that lets every offered tool run.

Each tool declares the scopes of which *any one* allows its call. Feishu's umbrella scopes
(``calendar:calendar`` grants everything, ``calendar:calendar:readonly`` all reads) would
cover many tools at once, but least privilege wants the narrow ones: per tool, we take a
scope already chosen for another tool if one fits, else its first narrow scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from auth.login import OFFLINE_ACCESS

UMBRELLA_SCOPES = frozenset({"calendar:calendar", "calendar:calendar:readonly"})
# Resolving calendar_id "primary" (POST calendars/primary) is not a tool but every default needs it.
PRIMARY_CALENDAR_SCOPE = "calendar:calendar:read"


def pick_scope(any_of: Sequence[str], chosen: Iterable[str] = ()) -> str:
    """The one scope to request for a tool that accepts any of ``any_of``."""
    already = [s for s in any_of if s in set(chosen)]
    if already:
        return already[0]
    narrow = [s for s in any_of if s not in UMBRELLA_SCOPES]
    return (narrow or list(any_of))[0]


def minimal_scopes(per_tool: Iterable[Sequence[str]], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The scopes for a login: one per tool (shared where possible), the primary-calendar scope,
    ``offline_access`` for a refresh token, and any ``extra`` the user asked for."""
    chosen: list[str] = [PRIMARY_CALENDAR_SCOPE]
    # Tools with fewer choices first, so their only option can serve the others too.
    for any_of in sorted((tuple(s) for s in per_tool if s), key=len):
        scope = pick_scope(any_of, chosen)
        if scope not in chosen:
            chosen.append(scope)
    for scope in [*extra, OFFLINE_ACCESS]:
        if scope and scope not in chosen:
            chosen.append(scope)
    return tuple(chosen)


def scope_table(tools: Iterable[tuple[str, str, Sequence[str]]]) -> str:
    """Markdown rows (tool, toolset, accepted scopes, the one a login asks for) for docs/auth.md."""
    rows = list(tools)
    chosen = minimal_scopes(any_of for _, _, any_of in rows)
    lines = ["| tool | toolset | Feishu accepts any of | login asks for |", "| --- | --- | --- | --- |"]
    for name, toolset, any_of in rows:
        if any_of:
            accepted = ", ".join(f"`{s}`" for s in any_of)
            lines.append(f"| `{name}` | {toolset} | {accepted} | `{pick_scope(any_of, chosen)}` |")
    return "\n".join(lines)
