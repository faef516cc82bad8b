# One team-mode replica (docs/team-mode.md). Build: docker build -t feishu-calendar-mcp .
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY tools ./tools
COPY auth ./auth
COPY sandbox ./sandbox
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home /nonexistent mcp

USER mcp
# Bind every interface inside the container; only the load balancer should reach it.
ENV FEISHU_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
EXPOSE 8765
HEALTHCHECK --interval=15s --timeout=3s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=2)"
ENTRYPOINT ["feishu-calendar-mcp", "serve", "--transport", "http", "--port", "8765"]
