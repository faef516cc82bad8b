"""A small run of bench/workload.py: mixed tool calls against the faulty sandbox, state checked after."""

from __future__ import annotations

import pytest

from bench.workload import run_workload

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("calls", "fault_rate", "seed"), [(80, 0.3, 11), (60, 0.6, 5)])
async def test_faults_neither_duplicate_nor_lose_writes(calls: int, fault_rate: float, seed: int) -> None:
    figures = await run_workload(calls=calls, fault_rate=fault_rate, seed=seed)
    assert figures["problems"] == []
    assert figures["duplicates"] == 0
    assert figures["lost writes"] == 0
    assert figures["unintended events"] == 0
    assert figures["unadvised errors"] == 0
    assert figures["intents left uncertain"] == 0
    assert figures["stale reads"] == 0
    assert figures["tool calls"] >= calls
    # The run was really under fire, and the client really retried.
    assert figures["faults injected"] > 0.5 * fault_rate * figures["upstream requests"]
    assert figures["client retries"] > 0
    assert figures["events checked"] > 0
    assert {"create_event", "update_event", "delete_event", "get_event"} <= set(figures["calls by tool"])
