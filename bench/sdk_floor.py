"""The SDK floor: a bare ``mcp`` server with one trivial async tool and no HTTP behind it.

Whatever it costs (start-up, memory, per-call latency, throughput) is what the ``mcp``
package itself costs; the harness reports our server's figures as overhead on top of it.
It is served exactly as ours is (same transports, same defaults, same log level).

    python -m bench.sdk_floor [--transport stdio|http] [--port N]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mcp.server import MCPServer


def build() -> MCPServer:
    server = MCPServer("sdk-floor", version="0.0.0", log_level="WARNING")

    @server.tool()
    async def echo(event_id: str) -> dict[str, str]:
        """Return the id it was given (the cheapest tool with a structured result)."""
        return {"event_id": event_id}

    return server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_floor")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    server = build()
    if args.transport == "http":
        server.run(transport="streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
