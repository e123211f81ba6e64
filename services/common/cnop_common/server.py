"""Run a service under uvicorn with the platform's settings."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from prometheus_client import start_http_server
from starlette.types import ASGIApp

from cnop_common import otel
from cnop_common.contain import ContainErrors
from cnop_common.guarded_http import Limits, guarded_protocol
from cnop_common.logging import configure_logging
from cnop_common.settings import ProcessSettings

# How long an idle kept-alive connection stays open (uvicorn's default, named):
# clients of ours let go of theirs sooner (cnop_gateway/upstreams.py).
KEEP_ALIVE_SECONDS = 5


def serve(
    service: str,
    app: ASGIApp,
    *,
    host: str,
    port: int,
    log_level: str = "INFO",
    log_file: Path | None = None,
    admin_port: int | None = None,
    limits: Limits | None = None,
    max_connections: int = 1000,
) -> None:
    """Serve until stopped. Proxy headers stay off: the trust check needs the real peer.

    With `admin_port`, /metrics is served there (never on the client-facing port).
    """
    configure_logging(service, log_level, log_file)
    if admin_port is not None:
        start_http_server(admin_port, addr=host)
    tracer = otel.configure(service)
    uvicorn.run(
        ContainErrors(app),
        http=guarded_protocol(service, limits or Limits()),
        limit_concurrency=max_connections,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        # No service speaks WebSocket: an upgrade request is an ordinary request,
        # answered by the application in the API's error format (not a bare 500).
        ws="none",
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    if tracer is not None:
        tracer.shutdown()


def serve_service(service: str, app: ASGIApp, settings: ProcessSettings) -> None:
    """serve() with a process's own settings; /metrics on its admin port."""
    serve(
        service,
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
        admin_port=settings.admin_port,
        limits=Limits(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
        ),
        max_connections=settings.max_connections,
    )
