"""The MCP server, its Feishu client, settings and command line.

``__version__`` is the one place the version is written (pyproject reads it from here).
"""

__version__ = "0.1.0"
