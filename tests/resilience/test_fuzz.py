"""CI's slice of the schema fuzz (bench/fuzz.py): a few hundred examples across every tool."""

from __future__ import annotations

from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings

from bench.fuzz import ALL_OPERATIONS, Harness

HARNESS = Harness()
anyio.run(HARNESS.load_schemas)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(HARNESS.cases())
def test_every_tool_survives_schema_generated_arguments(case: tuple[str, dict[str, Any], bool]) -> None:
    anyio.run(HARNESS.check, *case)


def test_the_fuzz_covers_every_published_tool() -> None:
    assert set(HARNESS.schemas) == {op.name for op in ALL_OPERATIONS}
    assert all(f"tool {op.name}" in HARNESS.outcomes for op in ALL_OPERATIONS), HARNESS.outcomes
