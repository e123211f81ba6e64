"""Run a service under uvicorn with the platform's settings."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from cnop_common import otel
from cnop_common.logging import configure_logging
from cnop_common.settings import ServiceSettings


def serve(
    service: str,
    app: ASGIApp,
    *,
    host: str,
    port: int,
    log_level: str = "INFO",
    log_file: Path | None = None,
) -> None:
    """Serve until stopped. Proxy headers stay off: the trust check needs the real peer."""
    configure_logging(service, log_level, log_file)
    tracer = otel.configure(service)
    uvicorn.run(
        app,
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


def serve_service(service: str, app: ASGIApp, settings: ServiceSettings) -> None:
    """serve() with a backend's own settings."""
    serve(
        service,
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )
