"""`python -m cnop_gateway`: public port for the API, admin port for /metrics."""

from __future__ import annotations

from prometheus_client import start_http_server

from cnop_common.server import serve
from cnop_gateway import SERVICE
from cnop_gateway.app import Gateway
from cnop_gateway.settings import GatewaySettings


def main() -> None:
    """Serve until stopped."""
    settings = GatewaySettings()
    # /metrics lives only here, never on the public port.
    start_http_server(settings.admin_port, addr=settings.host)
    serve(
        SERVICE,
        Gateway(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )


if __name__ == "__main__":
    main()
