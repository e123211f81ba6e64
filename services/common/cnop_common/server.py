"""Run a service under uvicorn with the platform's settings."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from prometheus_client import start_http_server
from starlette.types import ASGIApp

from cnop_common import otel
from cnop_common.contain import ContainErrors
from cnop_common.guarded_http import Limits, guarded_protocol
from cnop_common.logging import configure_logging
from cnop_common.settings import ProcessSettings
from cnop_common.workers import run_workers, worker_socket

# How long an idle kept-alive connection stays open (uvicorn's default, named):
# clients of ours let go of theirs sooner (cnop_gateway/upstreams.py).
KEEP_ALIVE_SECONDS = 5
STARTUP_FAILURE = 3  # uvicorn's exit code when the server could not start


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
    listener: socket.socket | None = None,
) -> None:
    """Serve until stopped. Proxy headers stay off: the trust check needs the real peer.

    With `admin_port`, /metrics is served there (never on the client-facing port).
    With `listener`, requests come from that already bound socket (a worker's).
    """
    configure_logging(service, log_level, log_file)
    if admin_port is not None:
        start_http_server(admin_port, addr=host)
    tracer = otel.configure(service)
    config = uvicorn.Config(
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
    server = uvicorn.Server(config)
    server.run(sockets=[listener] if listener is not None else None)
    if tracer is not None:
        tracer.shutdown()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def serve_service(
    service: str,
    app: Callable[[], ASGIApp],
    settings: ProcessSettings,
    *,
    module: str | None = None,
    workers: int = 1,
) -> None:
    """serve() with a process's own settings; /metrics on its admin port.

    `app` builds the application (only in a process that serves requests). With
    `workers` > 1 this process supervises that many copies of `python -m module`
    sharing its port (workers.py); each of them lands here again as a worker.
    """
    listener = worker_socket()
    if listener is None and workers > 1:
        assert module is not None, "workers need the module that runs the service"
        sys.exit(
            run_workers(
                service,
                module,
                count=workers,
                host=settings.host,
                port=settings.port,
                admin_port=settings.admin_port,
                log_level=settings.log_level,
                log_file=settings.log_file,
            )
        )
    serve(
        service,
        app(),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
        # A worker's figures are served by its supervisor, for all workers together.
        admin_port=settings.admin_port if listener is None else None,
        listener=listener,
        limits=Limits(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
        ),
        max_connections=settings.max_connections,
    )
