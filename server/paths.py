"""Route building where no id can change the route: validate every segment, then percent-encode."""

from __future__ import annotations

import re
from urllib.parse import quote

from tools.common.fields import safe_segment

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class UnsafePathParameter(ValueError):
    """A path parameter that could escape its segment."""


def fill_route(route: str, params: dict[str, str]) -> str:
    """``route`` with each ``{name}`` replaced by its validated, percent-encoded value.

    Input models already check ids; this is the last line of defence in the one place
    that builds URLs, so a model bug can never turn an id into ``../`` or a query string.
    """

    def segment(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise UnsafePathParameter(f"{name}: missing")
        value = params[name]
        try:
            safe_segment(value)
        except ValueError as exc:
            raise UnsafePathParameter(f"{name}: {exc}") from exc
        # '@' is legal in a path segment and appears in calendar ids.
        return quote(value, safe="@")

    return _PLACEHOLDER.sub(segment, route)
