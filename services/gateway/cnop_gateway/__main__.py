"""`python -m cnop_gateway`: public port for the API, admin port for /metrics."""

from __future__ import annotations

import uvicorn
from prometheus_client import start_http_server

from cnop_common.logging import configure_logging
from cnop_gateway import SERVICE
from cnop_gateway.app import Gateway
from cnop_gateway.settings import GatewaySettings


def main() -> None:
    """Serve until stopped."""
    settings = GatewaySettings()
    configure_logging(SERVICE, settings.log_level, settings.log_file)
    # /metrics lives only here, never on the public port.
    start_http_server(settings.admin_port, addr=settings.host)
    uvicorn.run(
        Gateway(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
