"""Turning raw measurements into the figures of issue 7: sizes, overheads, targets, a table."""

from __future__ import annotations

import json
from typing import Any

# The targets of issue 7.
COLD_START_SLACK_S = 0.15
RSS_SLACK_MIB = 25.0
P50_SLACK_MS = 0.5
THROUGHPUT_SHARE = 0.85
TOOLS_LIST_MAX_BYTES = 32_000
CONNECTIONS_PER_CALL_MAX = 0.01
OURS_HOST, FLOOR_HOST = "127.0.0.1", "127.0.0.2"


def _compact(value: Any) -> int:
    # The SDK writes JSON compactly and without ASCII escapes; count the same way.
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def tools_list_bytes(raw: bytes) -> dict[str, Any]:
    """The tools/list answer as sent (whole message), its result, and each tool."""
    message = json.loads(raw)
    tools = message["result"]["tools"]
    return {
        "message_bytes": len(raw),
        "result_bytes": _compact(message["result"]),
        "tools": len(tools),
        "per_tool_bytes": {tool["name"]: _compact(tool) for tool in tools},
    }


def connection_delta(before: dict[str, Any], after: dict[str, Any], calls: int) -> dict[str, Any]:
    """New upstream connections and requests during the measured calls, per caller."""
    out: dict[str, Any] = {"calls_per_caller": calls}
    for label, host in (("ours", OURS_HOST), ("upstream_floor", FLOOR_HOST)):
        was = before.get(host, {"connections": 0, "requests": 0})
        now = after.get(host, {"connections": 0, "requests": 0})
        new = now["connections"] - was["connections"]
        out[label] = {
            "new_connections": new,
            "requests": now["requests"] - was["requests"],
            "new_connections_per_call": round(new / calls, 4) if calls else 0.0,
        }
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7: what it is, our figure, the limit, met or not."""
    rows: list[dict[str, Any]] = []

    def row(name: str, ours: float, limit: float, met: bool, unit: str) -> None:
        rows.append({"target": name, "ours": round(ours, 3), "limit": round(limit, 3), "unit": unit, "met": met})

    cold = results["cold_start"]
    limit = cold["sdk_floor"]["median_s"] + COLD_START_SLACK_S
    row("cold start <= SDK floor + 0.15 s", cold["ours"]["median_s"], limit, cold["ours"]["median_s"] <= limit, "s")
    size = cold["ours"]["tools_list"]["result_bytes"]
    row("tools/list <= 32 KB", size, TOOLS_LIST_MAX_BYTES, size <= TOOLS_LIST_MAX_BYTES, "bytes")
    for transport in ("stdio", "http"):
        phase = results.get(transport)
        if not phase:
            continue
        rss, floor_rss = phase["peak_rss_mib"]["ours"], phase["peak_rss_mib"]["sdk_floor"]
        row(f"{transport} peak RSS <= SDK floor + 25 MiB", rss, floor_rss + RSS_SLACK_MIB, rss <= floor_rss + 25, "MiB")
        for tool in ("get_event", "list_events"):
            figures = phase[tool]
            p50 = figures["ours"]["p50_ms"]
            limit = figures["sdk_floor"]["p50_ms"] + figures["upstream_floor"]["p50_ms"] + P50_SLACK_MS
            row(f"{transport} {tool} p50 <= SDK + upstream + 0.5 ms", p50, limit, p50 <= limit, "ms")
        rate = phase["throughput"]["ours"]["calls_per_s"]
        limit = phase["throughput"]["sdk_floor"]["calls_per_s"] * THROUGHPUT_SHARE
        row(f"{transport} throughput c=8 >= 85% of SDK floor", rate, limit, rate >= limit, "calls/s")
        per_call = phase["upstream_connections"]["ours"]["new_connections_per_call"]
        limit = CONNECTIONS_PER_CALL_MAX
        row(f"{transport} new upstream connections per call <= 0.01", per_call, limit, per_call <= limit, "per call")
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The summary table printed after a run (docs/benchmarks.md explains it)."""
    lines = [
        f"upstream: {results['upstream']}; machine: {results['machine']['cpu']} x{results['machine']['cpus']}",
        "",
        "| figure | ours | SDK floor | upstream floor | overhead |",
        "|---|---|---|---|---|",
    ]
    cold = results["cold_start"]
    ours_s, floor_s = cold["ours"]["median_s"], cold["sdk_floor"]["median_s"]
    lines.append(f"| cold start (s) | {ours_s} | {floor_s} | - | +{ours_s - floor_s:.3f} |")
    ours_cpu, floor_cpu = cold["ours"]["cpu_median_s"], cold["sdk_floor"]["cpu_median_s"]
    lines.append(f"| cold start CPU (s) | {ours_cpu} | {floor_cpu} | - | +{ours_cpu - floor_cpu:.3f} |")
    sandbox = cold["ours_sandbox"]
    sandbox_s = sandbox["median_s"] if isinstance(sandbox, dict) else "failed"
    lines.append(f"| cold start `serve --sandbox` (s) | {sandbox_s} | {floor_s} | - | - |")
    tl = cold["ours"]["tools_list"]
    lines.append(f"| tools/list bytes ({tl['tools']} tools) | {tl['result_bytes']} | - | - | - |")
    for transport in ("stdio", "http"):
        phase = results.get(transport)
        if not phase:
            continue
        for tool in ("get_event", "list_events"):
            f = phase[tool]
            for q in ("p50_ms", "p95_ms", "p99_ms"):
                ours, sdk, up = f["ours"][q], f["sdk_floor"][q], f["upstream_floor"][q]
                lines.append(f"| {transport} {tool} {q} | {ours} | {sdk} | {up} | +{ours - sdk - up:.3f} |")
            cpu = f["ours"]["cpu_ms_per_call"], f["sdk_floor"]["cpu_ms_per_call"]
            lines.append(
                f"| {transport} {tool} server CPU ms/call | {cpu[0]} | {cpu[1]} | - | +{cpu[0] - cpu[1]:.3f} |"
            )
        tp = phase["throughput"]
        ours_r, sdk_r, up_r = (tp[k]["calls_per_s"] for k in ("ours", "sdk_floor", "upstream_floor"))
        lines.append(f"| {transport} calls/s at c=8 | {ours_r} | {sdk_r} | {up_r} | {ours_r / sdk_r:.0%} of SDK |")
        rss = phase["peak_rss_mib"]
        lines.append(
            f"| {transport} peak RSS (MiB) | {rss['ours']} | {rss['sdk_floor']} | - | "
            f"+{rss['ours'] - rss['sdk_floor']:.1f} |"
        )
        conns = phase["upstream_connections"]
        lines.append(
            f"| {transport} new upstream connections/call | {conns['ours']['new_connections_per_call']} | - | "
            f"{conns['upstream_floor']['new_connections_per_call']} | - |"
        )
    lines += ["", "| target | ours | limit | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['target']} | {t['ours']} {t['unit']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)
