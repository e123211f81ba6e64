"""`python -m cnop_gateway`: public port for the API, admin port for /metrics."""

from cnop_common.server import serve_service
from cnop_gateway import SERVICE
from cnop_gateway.app import Gateway
from cnop_gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()
    serve_service(SERVICE, Gateway(settings), settings)
