"""``python -m sandbox --port N [--admin]``: serve the emulator on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys

from sandbox.app import Sandbox, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Feishu calendar emulator on loopback")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--admin", action="store_true", help="enable the /_sandbox/ admin routes")
    parser.add_argument("--empty", action="store_true", help="start without the demo data")
    args = parser.parse_args()
    sb = Sandbox(seed=not args.empty, admin=args.admin)
    if not args.empty:
        print(f"sandbox on http://127.0.0.1:{args.port}  demo user token: {sb.demo_token}", file=sys.stderr)
    serve(sb, port=args.port)


if __name__ == "__main__":
    main()
