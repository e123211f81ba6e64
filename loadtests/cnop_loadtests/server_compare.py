"""The gateway's ASGI application under granian, a server compiled from Rust, for `make bench`.

The services run on uvicorn with httptools, behind the platform's guarded
protocol (cnop_common/guarded_http.py: header size, count and time bounds,
JSON answers to bad HTTP). granian has its own bounds, not ours, so this is a
measurement of what the server costs, not a way the platform runs:
`make bench` adds a front-door row for it (docs/performance.md).

    granian --interface asgi --factory cnop_loadtests.server_compare:gateway_app
"""

from __future__ import annotations

import sys

from starlette.types import ASGIApp

from cnop_common.contain import ContainErrors
from cnop_common.logging import configure_logging
from cnop_gateway import SERVICE
from cnop_gateway.app import Gateway
from cnop_gateway.settings import GatewaySettings


def gateway_app() -> ASGIApp:
    """The gateway as `python -m cnop_gateway` builds it, without the server around it."""
    settings = GatewaySettings()
    configure_logging(SERVICE, settings.log_level, settings.log_file)
    return ContainErrors(Gateway(settings))


def granian_command(host: str, port: int) -> list[str]:
    """One granian worker on uvloop serving gateway_app()."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--no-ws",
        "--log-level",
        "warning",
        "--factory",
        "cnop_loadtests.server_compare:gateway_app",
    ]
