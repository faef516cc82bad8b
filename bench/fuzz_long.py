"""The long schema fuzz: ``python -m bench.fuzz_long [--examples 10000] [--seed N]``.

The same properties as CI's tests/resilience/test_fuzz.py (see bench/fuzz.py), many more
examples, random rather than derandomized. Prints what the examples did and exits non-zero
with hypothesis's shrunk counterexample if any property fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import anyio
from hypothesis import HealthCheck, given, seed, settings

from bench.fuzz import Harness


def run(examples: int, rng_seed: int | None) -> Harness:
    harness = Harness()
    anyio.run(harness.load_schemas)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(harness.cases())
    def fuzz(case: tuple[str, dict[str, Any], bool]) -> None:
        anyio.run(harness.check, *case)

    if rng_seed is not None:
        fuzz = seed(rng_seed)(fuzz)
    fuzz()
    return harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    harness = run(args.examples, args.seed)
    elapsed = time.perf_counter() - started
    totals = {k: v for k, v in harness.outcomes.items() if not k.startswith("tool ")}
    tools = {k.removeprefix("tool "): v for k, v in harness.outcomes.items() if k.startswith("tool ")}
    print(f"examples run: {sum(totals.values())} in {elapsed:.0f} s, all properties held")
    for name, count in sorted(totals.items()):
        print(f"  {name}: {count}")
    print(f"tools covered: {len(tools)} (fewest examples: {min(tools.values())}, most: {max(tools.values())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
