"""`python -m cnop_order`: serve the order service."""

from cnop_common.server import serve
from cnop_order import SERVICE
from cnop_order.main import create_app
from cnop_order.settings import OrderSettings

if __name__ == "__main__":
    settings = OrderSettings()
    serve(
        SERVICE,
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )
