"""`python -m server` is the same as the `feishu-calendar-mcp` command."""

from server.cli import main

raise SystemExit(main())
