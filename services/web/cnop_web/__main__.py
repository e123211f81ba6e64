"""`python -m cnop_web`: the browser-facing port for pages and API, admin port for /metrics."""

from __future__ import annotations

from prometheus_client import start_http_server

from cnop_common.server import serve
from cnop_web import SERVICE
from cnop_web.main import create_app
from cnop_web.settings import WebSettings


def main() -> None:
    """Serve until stopped."""
    settings = WebSettings()
    start_http_server(settings.admin_port, addr=settings.host)
    serve(
        SERVICE,
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )


if __name__ == "__main__":
    main()
