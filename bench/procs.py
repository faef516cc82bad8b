"""Process plumbing for the harness: free ports, waiting for a listener, and /proc readings.

CPU and memory come from /proc (Linux only), so they cost the measured process nothing:
``utime + stime`` from /proc/PID/stat (in clock ticks) and ``VmHWM`` / ``VmRSS`` from
/proc/PID/status.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def add_checkouts(parser: argparse.ArgumentParser, what: str) -> None:
    """``--before DIR`` and ``--after DIR`` (default: this checkout): the two checkouts whose ``what`` is compared."""
    parser.add_argument("--before", type=Path, required=True, help=f"checkout of the 'before' {what}")
    parser.add_argument("--after", type=Path, default=ROOT, help=f"checkout of the 'after' {what} (this one)")


def checkouts(args: argparse.Namespace) -> dict[str, Path]:
    """The two checkouts of :func:`add_checkouts`, by side."""
    return {"before": args.before.resolve(), "after": args.after.resolve()}


def after_before(before: float, after: float) -> str:
    """after / before, to two places; CPU comes in 10 ms ticks, so a tiny run may measure none for a side."""
    return f"{after / before:.2f}" if before else "n/a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[Any] | None = None) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" that closes comm, utime and stime are fields 12 and 13 (0-based 11, 12).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mib(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory, in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out["peak" if key == "VmHWM" else "current"] = int(value.split()[0]) / 1024
    return out


def python_env(root: Path = ROOT, **extra: str) -> dict[str, str]:
    """The child environment: ``root`` (a checkout) first on sys.path, no stray Feishu settings.

    Start the child in ``root`` as well: ``python -m`` puts the working directory first.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")}
    env["PYTHONPATH"] = str(root)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # keep .pyc caches: an installed server has them
    env.update(extra)
    return env


def stop(process: subprocess.Popen[Any] | Any) -> None:
    """Terminate a child we started (by its own handle, never by name)."""
    if process.returncode is None:
        process.terminate()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of samples in seconds, reported in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(cuts[94] * 1000, 3),
        "p99_ms": round(cuts[98] * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "n": len(samples),
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "mcp": version("mcp"),
        "httpx2": version("httpx2"),
        "pydantic": version("pydantic"),
        "uvicorn": version("uvicorn"),
    }
