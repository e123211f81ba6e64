"""Run a service under uvicorn with the platform's settings."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from cnop_common.logging import configure_logging
from cnop_common.settings import ServiceSettings


def serve(service: str, app: FastAPI, settings: ServiceSettings) -> None:
    """Serve until stopped. Proxy headers stay off: the trust check needs the real peer."""
    configure_logging(service, settings.log_level, settings.log_file)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
