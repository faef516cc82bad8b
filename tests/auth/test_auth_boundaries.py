"""The auth package's boundaries: no MCP imports, and Authlib really runs on httpx2."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client

AUTH = Path(__file__).resolve().parents[2] / "auth"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_auth_imports_nothing_from_mcp_or_httpx() -> None:
    for path in sorted(AUTH.glob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in {"mcp", "httpx", "server", "tools"}}
        assert not bad, f"{path.name} imports {bad}"


def test_authlib_client_is_an_httpx2_client() -> None:
    assert issubclass(AsyncOAuth2Client, httpx2.AsyncClient)
