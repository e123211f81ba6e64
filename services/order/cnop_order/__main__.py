"""`python -m cnop_order`: serve the order service."""

from cnop_common.server import serve_service
from cnop_order import SERVICE
from cnop_order.main import create_app
from cnop_order.settings import OrderSettings

if __name__ == "__main__":
    settings = OrderSettings()
    serve_service(
        SERVICE,
        lambda: create_app(settings),
        settings,
        module="cnop_order",
        workers=settings.workers,
    )
