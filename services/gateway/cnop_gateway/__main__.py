"""`python -m cnop_gateway`: public port for the API, admin port for /metrics.

With WORKERS > 1, this process supervises that many gateway processes on the
same port (cnop_common/workers.py); each of them runs this module again.
"""

from starlette.types import ASGIApp

from cnop_common.server import serve_service
from cnop_gateway import SERVICE
from cnop_gateway.settings import GatewaySettings


def build(settings: GatewaySettings) -> ASGIApp:
    """The gateway, imported only where it serves: a supervisor of workers never loads it."""
    from cnop_gateway.app import Gateway  # noqa: PLC0415 - see above: ~40 MiB it need not hold

    return Gateway(settings)


if __name__ == "__main__":
    settings = GatewaySettings()
    serve_service(
        SERVICE,
        lambda: build(settings),
        settings,
        module="cnop_gateway",
        workers=settings.workers,
    )
