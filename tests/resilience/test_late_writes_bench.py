"""A small run of bench/late_writes.py: writes that run late at Feishu never undo a write unseen."""

from __future__ import annotations

import pytest

from bench.late_writes import run_late_writes

pytestmark = pytest.mark.anyio


async def test_every_overwrite_by_a_late_request_reaches_the_model() -> None:
    figures = await run_late_writes(calls=150, late_rate=0.3, seed=5)
    assert figures["problems"] == []
    assert figures["late executions"] > 10  # the run really had writes landing late
    assert figures["overwrites unseen"] == 0
    assert figures["lost writes at the end"] == 0
    assert figures["duplicates"] == 0


async def test_without_the_checks_the_same_run_loses_writes_unseen() -> None:
    baseline = await run_late_writes(calls=150, late_rate=0.3, seed=5, guard=False)
    assert baseline["overwrites unseen"] == baseline["late executions that changed an event (overwrites)"] > 0
    assert baseline["notes seen by the model"] == {}
