"""CI's slice of the schema fuzz (bench/fuzz.py): a dozen and a half examples for each tool, and the sweep
of hostile values (huge strings, extreme dates, other scripts' digits) through every text field."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz import ALL_OPERATIONS, Harness

HARNESS = Harness()
anyio.run(HARNESS.load_schemas)


def test_the_fuzz_sees_every_tool() -> None:
    assert set(HARNESS.schemas) == {op.name for op in ALL_OPERATIONS}


@pytest.mark.parametrize("tool", sorted(op.name for op in ALL_OPERATIONS))
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_tool_survives_schema_generated_arguments(tool: str, data: st.DataObject) -> None:
    case = data.draw(HARNESS.cases_for(tool))
    anyio.run(HARNESS.check, *case)


@pytest.mark.parametrize("tool", sorted(op.name for op in ALL_OPERATIONS))
def test_tool_survives_hostile_values_in_every_text_field(tool: str) -> None:
    assert anyio.run(HARNESS.sweep, tool) > 0 or not HARNESS.schemas[tool].get("properties")
