"""The request log: every request the sandbox received, as a test would want to assert on it.

Tokens never appear in full: the ``authorization`` header is stored masked
(:func:`sandbox.access.mask_token`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sandbox.access import mask_token


@dataclass
class LoggedRequest:
    method: str
    path: str
    raw_path: str  # as sent, percent-encoding intact
    query: dict[str, str | list[str]]  # a repeated key keeps all its values as a list
    headers: dict[str, str]  # lower-case names; authorization masked
    body: Any  # the parsed JSON body, the raw text if it was not JSON, None if empty
    logid: str
    status: int = 0
    code: int | None = None  # the envelope's code, when the reply had one
    fault: str | None = None  # the injected fault that answered instead of the route


class RequestLog(list[LoggedRequest]):
    """Every request received, oldest first (a plain list, with a filter helper).

    ``limit``: keep only the newest that many. A served sandbox (``serve``) runs for as long as
    someone tries things against it, at ~1.8 KB an entry; in-process sandboxes (tests) keep all.
    """

    limit: int | None = None

    def record(self, entry: LoggedRequest) -> None:
        self.append(entry)
        if self.limit is not None and len(self) >= 2 * self.limit:
            del self[: len(self) - self.limit]  # in batches: each request costs O(1) on average

    def matching(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Entries with this method and/or a path containing ``path``."""
        return [e for e in self if (method is None or e.method == method) and (path is None or path in e.path)]


def parse_query(query_string: bytes) -> dict[str, str | list[str]]:
    result: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        previous = result.get(key)
        if previous is None:
            result[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            result[key] = [previous, value]
    return result


def loggable_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1").lower(), value_bytes.decode("latin-1")
        if name == "authorization":
            scheme, _, token = value.partition(" ")
            value = f"{scheme} {mask_token(token.strip())}" if token else mask_token(value)
        headers[name] = value
    return headers


def parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
