"""Run a service under uvicorn with the platform's settings."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from prometheus_client import start_http_server
from starlette.types import ASGIApp

from cnop_common import otel
from cnop_common.contain import ContainErrors
from cnop_common.logging import configure_logging
from cnop_common.settings import ProcessSettings


def serve(
    service: str,
    app: ASGIApp,
    *,
    host: str,
    port: int,
    log_level: str = "INFO",
    log_file: Path | None = None,
    admin_port: int | None = None,
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
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
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
    )
