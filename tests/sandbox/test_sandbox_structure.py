"""The sandbox stays easy to read as it grows: a module names what it needs of the Sandbox.

Modules that only read and change the world at the sandbox's "now" are typed against
``sandbox.core.Core`` (world, clock) or ``Api`` (those plus the gate every Feishu route passes);
only modules that use more of the Sandbox (faults, the request log, token expiry, reset) take
the whole ``Sandbox``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
NARROW = {"world", "clock", "authenticate", "settle"}
MODULES = sorted(p for p in SANDBOX.glob("*.py") if p.name not in {"app.py", "core.py", "__init__.py"})


def _used(text: str) -> set[str]:
    return set(re.findall(r"\bsb\.([a-z_]+)", text))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_module_takes_the_whole_sandbox_only_when_it_needs_more_than_state_and_clock(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "from sandbox.app import Sandbox" in text and "sb: Sandbox" in text:
        beyond = _used(text) - NARROW
        assert beyond, f"sandbox/{path.name} uses only {sorted(_used(text))} of the Sandbox: type it Core or Api"


def test_most_modules_reach_only_state_clock_and_the_route_gate() -> None:
    narrow = [p.name for p in MODULES if "from sandbox.core import" in p.read_text(encoding="utf-8")]
    whole = [p.name for p in MODULES if "from sandbox.app import Sandbox" in p.read_text(encoding="utf-8")]
    assert len(narrow) >= 18, narrow
    # admin, middleware, oauth, event_reads (sync tokens), wire (the gate itself): each uses more.
    assert len(whole) <= 5, whole
