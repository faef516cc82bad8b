"""Benchmarks: the harness (bench.run), the SDK floor (bench.sdk_floor) and the upstream floor (bench.upstream)."""
