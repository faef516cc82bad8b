"""docs/resilience.md's replay table is generated from the operation declarations: fail when it drifts."""

from __future__ import annotations

import re
from pathlib import Path

from tools import OPERATIONS

DOC = Path(__file__).parents[2] / "docs" / "resilience.md"


def replay_table() -> str:
    rows = [
        '| tool | method | replay | "already done" codes after a replay | read back with |',
        "| --- | --- | --- | --- | --- |",
    ]
    reads = {op.route: op.name for op in OPERATIONS if op.method == "GET"}
    for op in OPERATIONS:
        gone = ", ".join(str(code) for code in sorted(op.done_after_replay)) or "-"
        back = f"`{reads[op.read_back.route]}`" if op.read_back else "-"
        rows.append(f"| `{op.name}` | {op.method} | {op.replay.value} | {gone} | {back} |")
    return "\n".join(rows)


def test_replay_table_is_current() -> None:
    match = re.search(r"<!-- replay-table:start -->\n(.*?)\n<!-- replay-table:end -->", DOC.read_text(), re.S)
    assert match, "docs/resilience.md has no replay-table section"
    assert match.group(1) == replay_table(), "update docs/resilience.md's table to:\n" + replay_table()
